"""E-mail messages as data: RFC 5322 parsing into normalized inbound messages, the
text of a body (HTML turned to text, quoted history trimmed) and loop protection.

No network here; ``socialdesk.channels.email`` fetches and sends.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

from socialdesk.channels.base import AccountRef
from socialdesk.channels.email.attachments import mime_attachments
from socialdesk.domain.email_reply import split_reply
from socialdesk.domain.enums import Direction, Platform, Visibility
from socialdesk.domain.messages import Author, InboundMessage

IGNORED_PRECEDENCE = frozenset({"bulk", "list", "junk"})
_MSGID_RE = re.compile(r"<[^<>\s]+>")


def message_ids(value: object) -> list[str]:
    """The ``<id>`` tokens of a Message-ID, In-Reply-To or References header, in
    order, without repeats. Bare ids (no brackets) from sloppy mailers are wrapped."""
    if value is None:
        return []
    text = str(value)
    found = _MSGID_RE.findall(text)
    if not found:
        found = [f"<{token.strip('<>')}>" for token in text.split() if "@" in token]
    seen: set[str] = set()
    ordered: list[str] = []
    for item in found:
        if item not in seen:
            seen.add(item)
            ordered.append(item)
    return ordered


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset(
        {"p", "div", "br", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr"}
    )
    _SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")
        if tag == "blockquote":
            self._quote_depth += 1
        if tag == "li":
            self.parts.append("\n- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")
        if tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._quote_depth:
            # Quoted mail in HTML becomes ``>`` lines, trimmed like plain-text quotes.
            data = "\n".join("> " + line for line in data.splitlines() if line.strip())
            self.parts.append("\n" + data + "\n")
            return
        self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(markup: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    lines = [line.strip() for line in "".join(extractor.parts).splitlines()]
    return _squeeze_blank_lines(lines)


def _squeeze_blank_lines(lines: Sequence[str]) -> str:
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip()


def trim_quoted_reply(text: str, subject: str | None = None) -> str:
    """The new part of a reply (see ``socialdesk.domain.email_reply``): quoted history,
    Outlook header blocks and the signature folded away, forwards kept whole. Returns
    the text unchanged when trimming would leave nothing."""
    return split_reply(text, subject).reply


def loop_reason(message: EmailMessage, own_addresses: Sequence[str] = ()) -> str | None:
    """Why this mail must not be answered (RFC 3834 and common practice), or None."""
    auto = message.get("Auto-Submitted")
    if auto is not None and str(auto).split(";")[0].strip().lower() != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in IGNORED_PRECEDENCE:
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond"):
        if message.get(header) is not None:
            return header
    if str(message.get("Return-Path", "")).strip() == "<>":
        return "null Return-Path (bounce)"
    sender = _from_address(message)
    own = {a.lower() for a in own_addresses if a}
    if sender and sender[0] in own:
        return "sent from our own address"
    return None


def _from_address(message: EmailMessage) -> tuple[str, str] | None:
    """``(lower-cased address, display name)`` of the first From address."""
    header = message.get("From")
    addresses: Sequence[Address] = getattr(header, "addresses", ())
    for address in addresses:
        if address.addr_spec and "@" in address.addr_spec:
            return address.addr_spec.lower(), address.display_name
    return None


def _body_text(message: EmailMessage) -> tuple[str, str]:
    """``(text, mime type used)``: text/plain preferred, else HTML turned to text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return "", "none"
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # unknown charset or broken encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return "", part.get_content_type()
    if part.get_content_type() == "text/html":
        return html_to_text(content), "text/html"
    return content.replace("\r\n", "\n").strip(), "text/plain"


def _date(message: EmailMessage, fallback: datetime | None) -> datetime:
    raw = message.get("Date")
    if raw is not None:
        try:
            parsed = parsedate_to_datetime(str(raw))
        except (TypeError, ValueError):
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
    return fallback or datetime.now(UTC)


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def parse_email(
    raw: bytes,
    account: AccountRef,
    *,
    own_addresses: Sequence[str] = (),
    uid: int | None = None,
    uidvalidity: int | None = None,
    internal_date: datetime | None = None,
) -> InboundMessage | None:
    """One RFC 5322 message as a normalized inbound message, or None when loop
    protection says it must be ignored (auto-replies, lists, bounces, our own mail)."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    if loop_reason(message, own_addresses) is not None:
        return None
    digest = content_hash(raw)
    own_id = next(iter(message_ids(message.get("Message-ID"))), None)
    if own_id is None:
        own_id = f"<{digest[:40]}@no-message-id.invalid>"
    in_reply_to = next(iter(message_ids(message.get("In-Reply-To"))), None)
    references = tuple(message_ids(message.get("References")))
    if in_reply_to is None and references:
        in_reply_to = references[-1]
    root = references[0] if references else (in_reply_to or own_id)
    sender = _from_address(message) or ("unknown@invalid", "")
    full_text, mime_type = _body_text(message)
    subject = message.get("Subject")
    parts = split_reply(full_text, str(subject) if subject is not None else None)
    body = parts.reply
    extra: dict[str, object] = {
        "source": "imap",
        "content_sha256": digest,
        "body_type": mime_type,
        "to": [a.addr_spec for a in getattr(message.get("To"), "addresses", ())],
        "cc": [a.addr_spec for a in getattr(message.get("Cc"), "addresses", ())],
    }
    if "".join(body.split()) != "".join(full_text.split()):  # more than blank lines went
        extra["full_body"] = full_text
    if parts.signature:
        extra["signature"] = parts.signature
    if uid is not None:
        extra["imap_uid"] = uid
        extra["uidvalidity"] = uidvalidity
    if internal_date is not None:
        extra["internal_date"] = internal_date.isoformat()
    return InboundMessage(
        channel_account_id=account.id,
        platform=Platform.EMAIL,
        platform_message_id=own_id,
        author=Author(
            external_user_id=sender[0],
            handle=sender[0],
            display_name=sender[1] or None,
            email=sender[0],
        ),
        body=body,
        created_at=_date(message, internal_date),
        direction=Direction.INBOUND,
        visibility=Visibility.PRIVATE,
        reply_to_id=in_reply_to,
        references=references,
        conversation_id=root,
        subject=str(subject).strip() if subject is not None else None,
        extra=extra,
        attachments=mime_attachments(message),
    )
