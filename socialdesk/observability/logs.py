"""Logs: plain text as before, or one JSON object a line (``SOCIALDESK_LOG_FORMAT=json``).

Every line carries the ids in scope: ``request_id`` (the ``X-Request-ID`` a request came
with, or one made up for it), ``ticket_id``, ``account_id`` and ``raw_event_id``, each
``null`` when nothing of that kind is being worked on. They live in context variables:
the request middleware opens a scope per request, a route that takes a ticket or an
account in its path binds it, and the workers bind the outbox row's ticket and account
or the raw event they are on. Threads and tasks started inside a scope inherit it.

Formatting is python-json-logger's (a maintained formatter that already handles
``extra`` fields, exceptions and non-JSON values) behind a filter that fills in the ids.
Whatever the format, a last pass blanks what looks like a credential (bearer tokens,
``password=…``, ``"access_token": "…"``, webhook signatures): callers never log secrets
on purpose, and this keeps a mistake in a library's debug line from reaching the log.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

CONTEXT_FIELDS = ("request_id", "ticket_id", "account_id", "raw_event_id")
_VARS: dict[str, ContextVar[Any]] = {
    name: ContextVar(f"socialdesk_log_{name}", default=None) for name in CONTEXT_FIELDS
}
ACCESS_LOGGER = "socialdesk.access"
_OURS = "_socialdesk_handler"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")

# Names of what is blanked (a pattern, not a password).
_SECRET_WORDS = r"(?:[a-z_]*token|password|passwd|[a-z_]*secret|signature|authorization)"  # noqa: S105
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    (re.compile(rf"(?i)\b({_SECRET_WORDS})=[^&\s\"',;]+"), r"\1=[redacted]"),
    (re.compile(rf'(?i)(\\?"{_SECRET_WORDS}\\?"\s*:\s*\\?")[^"\\]*'), r"\1[redacted]"),
    (re.compile(rf"(?i)('{_SECRET_WORDS}'\s*:\s*')[^']*"), r"\1[redacted]"),
    (re.compile(r"(?i)\bsha(1|256)=[A-Za-z0-9+/=]{16,}"), r"sha\1=[redacted]"),
)


def redact(text: str) -> str:
    """``text`` with anything credential-shaped replaced by ``[redacted]``."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def bind_log_context(**ids: Any) -> None:
    """Set ids for the rest of the current scope (``ticket_id=…``, ``account_id=…``)."""
    for name, value in ids.items():
        _VARS[name].set(value)


def current_log_context() -> dict[str, Any]:
    return {name: var.get() for name, var in _VARS.items()}


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """A fresh scope: every id starts as given (or None) and what was there before comes
    back at the end, so nothing one request or row bound leaks into the next."""
    tokens = [(var, var.set(ids.get(name))) for name, var in _VARS.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def request_id_from(header: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is a plain token, else a new one (a header
    is not allowed to put line breaks or markup into our logs)."""
    if header and _REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Puts the ids in scope on every record (an explicit ``extra`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _VARS.items():
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        return True


class RedactingJsonFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def json_formatter() -> logging.Formatter:
    return RedactingJsonFormatter(
        ["asctime", "levelname", "name", "message", *CONTEXT_FIELDS],
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        json_default=str,
        # uvicorn's copy of its message with terminal colour codes
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],
    )


def configure_logging(
    log_format: str = "text", level: str = "INFO", stream: IO[str] | None = None
) -> logging.Handler:
    """Send every logger's lines to ``stream`` (stderr) in ``log_format`` ("text" or
    "json"). Calling it again replaces the handler it installed before."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _OURS, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _OURS, True)
    handler.addFilter(ContextFilter())
    as_json = log_format.lower() == "json"
    handler.setFormatter(json_formatter() if as_json else RedactingTextFormatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
    if as_json:
        # uvicorn's lines go through the JSON handler too; its access line is written
        # outside the request's context, so ours (with request_id) replaces it.
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            server_log = logging.getLogger(name)
            server_log.handlers = []
            server_log.propagate = True
        logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO if as_json else logging.WARNING)
    # Their INFO lines print whole request URLs, which for some networks carry tokens.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


def remove_logging(handler: logging.Handler) -> None:
    """Undo ``configure_logging`` (tests)."""
    logging.getLogger().removeHandler(handler)
    logging.getLogger("uvicorn.access").disabled = False
