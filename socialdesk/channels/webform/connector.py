"""The public web form: a customer's submission validated into an inbound message.

There is no network to talk to: the form posts straight to socialdesk
(``/hooks/web/{account}``), so this module only validates and normalizes. The author's
identity on the ``web`` platform is the lower-cased e-mail address, and ``Author.email``
carries it too, so a later e-mail from the same address reaches the same contact.

A submission's ``platform_message_id`` comes from the form's one-time token (rendered
into the page), so a double click or a browser resubmission stores one message. A
client without a token (JSON) may send ``submission_id``; failing both, the id is a hash
of sender, subject, text and UTC day.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from socialdesk.channels.base import (
    AccountRef,
    OutboundRequest,
    PollResult,
    RateLimitState,
    SendError,
    SendFailure,
    SendResult,
)
from socialdesk.domain.enums import Direction, Platform, Visibility
from socialdesk.domain.messages import Author, InboundMessage

FIELDS = ("name", "email", "subject", "message")
HONEYPOT_FIELD = "website"
TOKEN_FIELD = "form_token"  # noqa: S105 (a form field name)
MAX_LENGTHS = {"name": 200, "email": 320, "subject": 200, "message": 10_000}
_EMAIL_RE = re.compile(
    r"^[^@\s<>\"(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{8,128}$")


class FormError(Exception):
    """The submission is not acceptable; ``errors`` maps field names to reasons."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


@dataclass(frozen=True, slots=True)
class Submission:
    name: str
    email: str
    subject: str
    message: str
    token: str | None = None
    # True when the hidden honeypot field was filled in: a bot. Answer as if accepted,
    # store nothing.
    is_spam: bool = False


def _text(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError
    # Normalize and drop control characters other than line breaks and tabs.
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(c for c in value if c in "\n\t" or unicodedata.category(c) != "Cc").strip()


def validate(data: Mapping[str, object]) -> Submission:
    """Check a submitted form (or JSON object). Raises FormError with every problem."""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for name in (*FIELDS, HONEYPOT_FIELD, TOKEN_FIELD, "submission_id"):
        try:
            values[name] = _text(data.get(name))
        except TypeError:
            errors[name] = "must be text"
            values[name] = ""
    for name, limit in MAX_LENGTHS.items():
        if len(values[name]) > limit:
            errors[name] = f"must be at most {limit} characters"
    if "\n" in values["name"] or "\n" in values["subject"]:
        errors.setdefault("subject" if "\n" in values["subject"] else "name", "must be one line")
    if not values["name"]:
        errors.setdefault("name", "is required")
    email = values["email"].lower()
    if not email:
        errors.setdefault("email", "is required")
    elif not _EMAIL_RE.match(email):
        errors.setdefault("email", "is not an e-mail address")
    if not values["message"]:
        errors.setdefault("message", "is required")
    token = values[TOKEN_FIELD] or values["submission_id"] or None
    if token is not None and not _TOKEN_RE.match(token):
        errors[TOKEN_FIELD if values[TOKEN_FIELD] else "submission_id"] = "is malformed"
    if errors:
        raise FormError(errors)
    return Submission(
        name=values["name"],
        email=email,
        subject=values["subject"],
        message=values["message"],
        token=token,
        is_spam=bool(values[HONEYPOT_FIELD]),
    )


def submission_id(submission: Submission, at: datetime) -> str:
    if submission.token:
        return f"web:{submission.token}"
    digest = hashlib.sha256(
        "\x1f".join(
            (
                submission.email,
                submission.subject,
                submission.message,
                at.astimezone(UTC).date().isoformat(),
            )
        ).encode()
    ).hexdigest()
    return f"web:sha256:{digest[:40]}"


def to_message(
    submission: Submission,
    account: AccountRef,
    *,
    received_at: datetime,
    client_ip: str | None = None,
    raw_event_id: int | None = None,
) -> InboundMessage:
    message_id = submission_id(submission, received_at)
    extra: dict[str, object] = {"source": "web_form"}
    if client_ip:
        extra["client_ip"] = client_ip
    return InboundMessage(
        channel_account_id=account.id,
        platform=Platform.WEB,
        platform_message_id=message_id,
        author=Author(
            external_user_id=submission.email,
            handle=submission.email,
            display_name=submission.name,
            email=submission.email,
        ),
        body=submission.message,
        created_at=received_at,
        direction=Direction.INBOUND,
        visibility=Visibility.PRIVATE,
        conversation_id=message_id,
        subject=submission.subject or None,
        raw_event_id=raw_event_id,
        extra=extra,
    )


class WebFormConnector:
    """The form has no network behind it: replies are re-routed to the workspace's
    e-mail account when they are queued (``delivery/enqueue.py``). A reply that still
    reaches this connector (queued before that, or its e-mail account removed since)
    fails with the reason instead of waiting for a connector that cannot exist."""

    platform = Platform.WEB

    async def send(self, account: AccountRef, request: OutboundRequest) -> SendResult:
        raise SendError(
            SendFailure.PERMANENT,
            "web form tickets are answered by e-mail; connect an e-mail channel account "
            "and send the reply again",
        )

    async def poll(self, account: AccountRef, cursor: str | None) -> PollResult:
        return PollResult(messages=(), cursor=cursor)

    def rate_limit(self, account: AccountRef) -> RateLimitState:
        return RateLimitState()

    async def aclose(self) -> None:
        return None
