"""The public contact form: ``GET``/``POST /hooks/web/{account_external_id}``.

``GET`` serves a small accessible HTML form (name, e-mail, subject, message, a honeypot
and a one-time token). ``POST`` takes that form (``application/x-www-form-urlencoded``)
or a JSON object with the same fields, and in this order: unknown or disabled account →
404; body too large → 413; invalid fields → 422 with a reason per field (the form is
shown again for browsers); too many complete submissions from the client's address →
429 with ``Retry-After``; a filled honeypot → the usual thank-you, nothing stored; otherwise the raw
submission is committed as a raw event (source ``hooks:web``), then sent through the
pipeline, and the answer is a thank-you page or ``{"ticket_id": …}``.
"""

from __future__ import annotations

import html
import json
import logging
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from socialdesk.channels.base import AccountRef
from socialdesk.channels.webform.connector import (
    HONEYPOT_FIELD,
    MAX_LENGTHS,
    TOKEN_FIELD,
    FormError,
    Submission,
    to_message,
    validate,
)
from socialdesk.domain.enums import AccountStatus, Platform
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.raw_events import (
    RawDelivery,
    mark_failed,
    mark_processed,
    store_raw_events,
)
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, Message
from socialdesk.web.client_address import client_address
from socialdesk.web.errors import error_response

log = logging.getLogger(__name__)
router = APIRouter(prefix="/hooks/web", tags=["web form"])
WEB_SOURCE = "hooks:web"
_KEPT_HEADERS = ("content-type", "user-agent", "referer", "origin")


class RateLimiter:
    """At most ``limit`` hits per key within ``window`` seconds (sliding window)."""

    def __init__(
        self,
        limit: int = 5,
        window: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 50_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count a hit; returns None when allowed, else seconds until one is."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(0.0, hits[0] + self.window - now)
            hits.append(now)
            if len(self._hits) > self._max_keys:
                self._prune(now)
            return None

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    limiter = getattr(state, "webform_rate_limiter", None)
    if limiter is None:
        limiter = state.webform_rate_limiter = RateLimiter()
    return limiter


def _account(db: Database, external_id: str) -> tuple[AccountRef, str] | None:
    with db.session() as s:
        row = s.scalars(
            select(ChannelAccount).where(
                ChannelAccount.platform == str(Platform.WEB),
                ChannelAccount.external_id == external_id,
                ChannelAccount.status != str(AccountStatus.DISABLED),
            )
        ).first()
        if row is None:
            return None
        ref = AccountRef(
            id=row.id,
            platform=Platform.WEB,
            external_id=row.external_id,
            handle=row.handle,
            settings=dict(row.settings or {}),
        )
        return ref, row.display_name or row.handle


def _wants_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    accept = request.headers.get("accept", "")
    return "json" in content_type or ("application/json" in accept and "text/html" not in accept)


# -- pages --------------------------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 1rem/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto;
  padding: 0 1rem; color: #1a1a1a; }}
label {{ display: block; margin-top: 1rem; font-weight: 600; }}
input, textarea {{ width: 100%; padding: .5rem; font: inherit; box-sizing: border-box; }}
button {{ margin-top: 1.25rem; padding: .6rem 1.4rem; font: inherit; }}
.error {{ color: #a40000; }}
.hp {{ position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }}
</style>
</head>
<body>
<main>
{content}
</main>
</body>
</html>
"""


def _field(
    name: str, label: str, values: Mapping[str, str], errors: Mapping[str, str], **attrs: str
) -> str:
    error = errors.get(name)
    described = f' aria-describedby="{name}-error" aria-invalid="true"' if error else ""
    extra = "".join(f' {key}="{html.escape(value)}"' for key, value in attrs.items())
    value = html.escape(values.get(name, ""))
    if name == "message":
        control = (
            f'<textarea id="{name}" name="{name}" rows="8" maxlength="{MAX_LENGTHS[name]}"'
            f"{extra}{described}>{value}</textarea>"
        )
    else:
        control = (
            f'<input id="{name}" name="{name}" value="{value}" maxlength="{MAX_LENGTHS[name]}"'
            f"{extra}{described}>"
        )
    message = (
        f'<p class="error" id="{name}-error">{html.escape(label)} {html.escape(error)}</p>'
        if error
        else ""
    )
    return f'<label for="{name}">{html.escape(label)}</label>\n{control}\n{message}'


def render_form(
    title: str,
    action: str,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    intro: str | None = None,
) -> str:
    values = values or {}
    errors = errors or {}
    summary = ""
    if errors:
        items = "".join(
            f'<li><a href="#{html.escape(k)}">{html.escape(k)}: {html.escape(v)}</a></li>'
            for k, v in errors.items()
        )
        summary = (
            f'<div role="alert" class="error"><h2>Please check the form</h2><ul>{items}</ul></div>'
        )
    token = html.escape(values.get(TOKEN_FIELD) or secrets.token_urlsafe(18))
    content = "\n".join(
        [
            f"<h1>{html.escape(title)}</h1>",
            f"<p>{html.escape(intro or 'Write to us and we will answer by e-mail.')}</p>",
            summary,
            f'<form method="post" action="{html.escape(action)}" novalidate>',
            _field("name", "Your name", values, errors, required="", autocomplete="name"),
            _field(
                "email",
                "Your e-mail",
                values,
                errors,
                type="email",
                required="",
                autocomplete="email",
            ),
            _field("subject", "Subject", values, errors),
            _field("message", "Your message", values, errors, required=""),
            '<div class="hp" aria-hidden="true">'
            f'<label for="{HONEYPOT_FIELD}">Leave this field empty</label>'
            f'<input id="{HONEYPOT_FIELD}" name="{HONEYPOT_FIELD}" tabindex="-1" '
            'autocomplete="off"></div>',
            f'<input type="hidden" name="{TOKEN_FIELD}" value="{token}">',
            '<button type="submit">Send</button>',
            "</form>",
        ]
    )
    return _PAGE.format(title=html.escape(title), content=content)


def render_thanks(title: str, ticket_id: int | None) -> str:
    reference = (
        f"<p>Your reference number is <strong>{ticket_id}</strong>.</p>" if ticket_id else ""
    )
    content = (
        '<h1>Thank you</h1>\n<p role="status">We received your message and will answer by '
        f"e-mail.</p>\n{reference}"
    )
    return _PAGE.format(title=html.escape(f"Thank you — {title}"), content=content)


# -- endpoints --------------------------------------------------------------------------


@router.get("/{account_external_id}", response_class=HTMLResponse)
def form_page(request: Request, account_external_id: str) -> Response:
    found = _account(request.app.state.db, account_external_id)
    if found is None:
        return error_response(404, "no web form here")
    account, title = found
    intro = account.settings.get("form_intro")
    return HTMLResponse(
        render_form(title, str(request.url.path), intro=str(intro) if intro else None),
        headers={"Cache-Control": "no-store"},
    )


async def _read_body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


def _fields(content_type: str, body: bytes) -> dict[str, object] | str:
    """The submitted fields, or the reason they cannot be read."""
    if "application/json" in content_type:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return "body is not JSON"
        return data if isinstance(data, dict) else "body is not a JSON object"
    if "application/x-www-form-urlencoded" in content_type:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return "form is not UTF-8"
        return dict(parse_qsl(text, keep_blank_values=True))
    return "send application/x-www-form-urlencoded or application/json"


@router.post("/{account_external_id}")
async def submit(request: Request, account_external_id: str) -> Response:
    db: Database = request.app.state.db
    found = await run_in_threadpool(_account, db, account_external_id)
    if found is None:
        return error_response(404, "no web form here")
    account, title = found
    as_json = _wants_json(request)
    client_ip = client_address(request)
    limit: int = request.app.state.settings.max_webhook_body_bytes
    body = await _read_body(request, limit)
    if body is None:
        return error_response(413, f"body larger than {limit} bytes")
    content_type = request.headers.get("content-type", "").lower()
    fields = _fields(content_type, body)
    if isinstance(fields, str):
        return error_response(415 if "send " in fields else 400, fields)
    try:
        submission = validate(fields)
    except FormError as exc:
        if as_json:
            details = [{"field": k, "problem": v} for k, v in exc.errors.items()]
            return error_response(422, "the form is not complete", details)
        values = {k: v for k, v in fields.items() if isinstance(v, str)}
        page = render_form(title, str(request.url.path), values=values, errors=exc.errors)
        return HTMLResponse(page, status_code=422)
    # Only complete submissions count: a person fixing a typo is not held back.
    retry_after = _limiter(request).hit(f"{account.id}:{client_ip}")
    if retry_after is not None:
        response = error_response(429, "too many messages; try again later")
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return response
    if submission.is_spam:
        log.info("web form %s: honeypot filled, submission dropped", account.id)
        ticket_id = None
    else:
        headers = {k: v for k, v in request.headers.items() if k.lower() in _KEPT_HEADERS}
        raw = json.dumps(
            {"account": account.external_id, "client_ip": client_ip, "fields": fields},
            ensure_ascii=False,
            default=str,
        )
        ticket_id = await run_in_threadpool(
            _store_and_ingest,
            db,
            request.app.state.pipeline,
            account,
            submission,
            RawDelivery(WEB_SOURCE, raw, headers, account.id),
            client_ip,
        )
    if as_json:
        return JSONResponse({"status": "received", "ticket_id": ticket_id})
    return HTMLResponse(render_thanks(title, ticket_id))


def _store_and_ingest(
    db: Database,
    pipeline: Pipeline,
    account: AccountRef,
    submission: Submission,
    delivery: RawDelivery,
    client_ip: str,
) -> int | None:
    """Commit the raw submission, then ingest it; returns the ticket it joined."""
    with db.write() as session:
        (raw_id,) = store_raw_events(session.connection(), [delivery])
    message = to_message(
        submission,
        account,
        received_at=datetime.now(UTC),
        client_ip=client_ip,
        raw_event_id=raw_id,
    )
    try:
        with db.write() as session:
            conn = session.connection()
            pipeline.ingest(conn, [message])
            mark_processed(conn, [raw_id])
            ticket_id: Any = conn.execute(
                select(Message.ticket_id).where(
                    Message.channel_account_id == account.id,
                    Message.platform_message_id == message.platform_message_id,
                )
            ).scalar()
    except Exception as exc:
        with db.write() as session:
            mark_failed(session.connection(), raw_id, f"{type(exc).__name__}: {exc}")
        raise
    return int(ticket_id) if ticket_id is not None else None
