"""E-mail: IMAP polling by UID, SMTP sending, RFC 5322 threading, loop protection.

Wire format: ../shared/specs/social-platform-apis.md §5. Message ids are kept in their
bracketed form (``<local@domain>``) everywhere: ``platform_message_id`` is the
Message-ID, ``reply_to_id`` the In-Reply-To, ``references`` the References ids oldest
first, and ``conversation_id`` the thread's root id.

The cursor is ``"<UIDVALIDITY>:<last UID>"``. A poll searches ``UID <last+1>:*``, drops
UIDs at or below the checkpoint (the range always contains the highest message), and
fetches with ``BODY.PEEK[]`` so nothing is marked read. When the mailbox's UIDVALIDITY
changes the old UIDs mean nothing and the mailbox is read again from the start; the
pipeline drops the Message-IDs it already has.

The stdlib clients (``imaplib``, ``smtplib``) are blocking, so each poll or send runs
in a worker thread. Account connection details come from ``AccountRef.secrets`` first,
then ``AccountRef.settings``: ``imap_host``, ``imap_port``, ``imap_security``,
``smtp_host``, ``smtp_port``, ``smtp_security`` (``ssl``, ``starttls`` or ``none``),
``username``, ``password``, ``address`` (defaults to the account's ``external_id``),
``from_name`` and ``mailbox``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import imaplib
import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr, parsedate_to_datetime
from html.parser import HTMLParser

from socialdesk.channels.base import (
    AccountRef,
    OutboundRequest,
    PollResult,
    RateLimitState,
    ReplyKind,
    SendError,
    SendFailure,
    SendResult,
)
from socialdesk.domain.enums import Direction, Platform, Visibility
from socialdesk.domain.messages import Author, InboundMessage

log = logging.getLogger(__name__)

SECURITY_MODES = ("ssl", "starttls", "none")
IGNORED_PRECEDENCE = frozenset({"bulk", "list", "junk"})
_MSGID_RE = re.compile(r"<[^<>\s]+>")
_UID_RE = re.compile(rb"UID (\d+)")
_INTERNALDATE_RE = re.compile(rb'INTERNALDATE "([^"]+)"')
_WROTE_RE = re.compile(r"^\s*On\b.*\bwrote:\s*$", re.IGNORECASE)
_ORIGINAL_RE = re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE)
_REPLY_PREFIX_RE = re.compile(r"^\s*(re|aw|sv|antw)\s*:", re.IGNORECASE)
_AUTH_CODES = frozenset({530, 534, 535})


# -- settings ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Where and as whom one account talks to its mail servers. ``repr`` hides the
    password, so the settings can be logged."""

    address: str
    imap_host: str
    imap_port: int
    imap_security: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    username: str
    password: str
    from_name: str
    mailbox: str = "INBOX"

    def __repr__(self) -> str:
        return (
            f"MailSettings(address={self.address!r}, imap={self.imap_host}:{self.imap_port}"
            f"/{self.imap_security}, smtp={self.smtp_host}:{self.smtp_port}"
            f"/{self.smtp_security}, username={self.username!r}, password=***)"
        )

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2] or "localhost"

    @classmethod
    def from_account(cls, account: AccountRef) -> MailSettings:
        def get(key: str, default: str = "") -> str:
            value = account.secrets.get(key)
            if value is None:
                setting = account.settings.get(key)
                value = str(setting) if setting is not None else None
            return str(value) if value not in (None, "") else default

        def security(key: str, port: int, implicit_port: int) -> str:
            mode = get(key, "ssl" if port == implicit_port else "starttls").lower()
            if mode not in SECURITY_MODES:
                raise SendError(SendFailure.PERMANENT, f"{key} must be one of {SECURITY_MODES}")
            return mode

        try:
            imap_port = int(get("imap_port", "993"))
            smtp_port = int(get("smtp_port", "587"))
        except ValueError:
            raise SendError(SendFailure.PERMANENT, "imap_port/smtp_port are not numbers") from None
        address = get("address", account.external_id).strip()
        return cls(
            address=address,
            imap_host=get("imap_host"),
            imap_port=imap_port,
            imap_security=security("imap_security", imap_port, 993),
            smtp_host=get("smtp_host"),
            smtp_port=smtp_port,
            smtp_security=security("smtp_security", smtp_port, 465),
            username=get("username", address),
            password=get("password"),
            from_name=get("from_name", account.handle),
            mailbox=get("mailbox", "INBOX"),
        )


# -- cursor -------------------------------------------------------------------------------


def format_cursor(uidvalidity: int, last_uid: int) -> str:
    return f"{uidvalidity}:{last_uid}"


def parse_cursor(cursor: str | None) -> tuple[int, int] | None:
    """``(uidvalidity, last_uid)``, or None for no (or an unreadable) checkpoint."""
    if not cursor:
        return None
    validity, _, last = cursor.partition(":")
    if not (validity.isdigit() and last.isdigit()):
        return None
    return int(validity), int(last)


# -- parsing ---------------------------------------------------------------------------


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


def trim_quoted_reply(text: str) -> str:
    """The new part of a reply: everything before an ``On … wrote:`` line (also when
    the mailer wrapped it onto two lines) or an ``Original Message`` separator, with
    ``>`` quote lines dropped. Returns the text unchanged when trimming would leave
    nothing."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for position, line in enumerate(lines):
        following = lines[position + 1] if position + 1 < len(lines) else ""
        if _WROTE_RE.match(line) or _ORIGINAL_RE.match(line):
            break
        if re.match(r"^\s*On\b", line) and following.strip().lower().endswith("wrote:"):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    trimmed = _squeeze_blank_lines(kept)
    return trimmed or text.strip()


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


def _attachments(message: EmailMessage) -> list[dict[str, object]]:
    return [
        {"filename": part.get_filename(), "content_type": part.get_content_type()}
        for part in message.iter_attachments()
    ]


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
    body = trim_quoted_reply(full_text)
    subject = message.get("Subject")
    extra: dict[str, object] = {
        "source": "imap",
        "content_sha256": digest,
        "body_type": mime_type,
        "to": [a.addr_spec for a in getattr(message.get("To"), "addresses", ())],
        "cc": [a.addr_spec for a in getattr(message.get("Cc"), "addresses", ())],
    }
    if body != full_text:
        extra["full_body"] = full_text
    if uid is not None:
        extra["imap_uid"] = uid
        extra["uidvalidity"] = uidvalidity
    if internal_date is not None:
        extra["internal_date"] = internal_date.isoformat()
    attachments = _attachments(message)
    if attachments:
        extra["attachments"] = attachments
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
    )


# -- composing -------------------------------------------------------------------------


def reply_subject(subject: str | None, replying: bool) -> str:
    subject = (subject or "").strip()
    if not replying:
        return subject or "Your message"
    if not subject:
        return "Re: your message"
    return subject if _REPLY_PREFIX_RE.match(subject) else f"Re: {subject}"


def reply_references(references: Sequence[str], in_reply_to: str | None) -> list[str]:
    """The parent's References followed by the parent's Message-ID, without repeats."""
    chain = [ref for ref in references if ref]
    if in_reply_to and (not chain or chain[-1] != in_reply_to):
        chain = [ref for ref in chain if ref != in_reply_to] + [in_reply_to]
    return list(dict.fromkeys(chain))


def make_message_id(idempotency_key: str, domain: str) -> str:
    """Stable across retries of one outbound message, so a resend after a crash carries
    the same Message-ID and receivers (and our own poller) can tell."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<sd.{digest}@{domain}>"


def compose_reply(
    settings: MailSettings, request: OutboundRequest, *, automatic: bool = False
) -> EmailMessage:
    if not request.recipient_id or "@" not in request.recipient_id:
        raise SendError(SendFailure.PERMANENT, "an e-mail needs the recipient's address")
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = formataddr((settings.from_name, settings.address))
    message["To"] = request.recipient_id
    message["Subject"] = reply_subject(request.subject, bool(request.in_reply_to_id))
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_message_id(request.idempotency_key, settings.domain)
    if request.in_reply_to_id:
        message["In-Reply-To"] = request.in_reply_to_id
    references = reply_references(request.references, request.in_reply_to_id)
    if references:
        message["References"] = " ".join(references)
    if automatic:
        message["Auto-Submitted"] = "auto-replied"
    message.set_content(request.body)
    return message


# -- errors ----------------------------------------------------------------------------


def classify_smtp_error(exc: BaseException) -> SendError:
    """4xx → RETRYABLE, 5xx → PERMANENT, rejected credentials → AUTH_REVOKED, a
    dropped connection or network error → RETRYABLE. By reply code, never by text."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        code = max(codes) if codes else 550
        detail = "; ".join(f"{rcpt}: {_decode(msg)}" for rcpt, (_, msg) in exc.recipients.items())
        return _by_code(code, detail)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        detail = _decode(exc.smtp_error)
        if isinstance(exc, smtplib.SMTPAuthenticationError) and code in _AUTH_CODES:
            return SendError(SendFailure.AUTH_REVOKED, detail, code=str(code))
        return _by_code(code, detail)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SendError(SendFailure.PERMANENT, f"server does not support: {exc}")
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError | TimeoutError):
        return SendError(SendFailure.RETRYABLE, f"network error: {type(exc).__name__}")
    return SendError(SendFailure.RETRYABLE, f"{type(exc).__name__}: {exc}")


def _by_code(code: int, detail: str) -> SendError:
    if 400 <= code < 500:
        return SendError(SendFailure.RETRYABLE, detail, code=str(code))
    return SendError(SendFailure.PERMANENT, detail, code=str(code))


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


# -- connector -------------------------------------------------------------------------


class EmailConnector:
    """Polls one IMAP mailbox per account and sends replies over SMTP.

    ``max_fetch`` bounds the messages fetched per poll; the cursor then stops at the
    last one fetched and the next poll goes on from there.
    """

    platform = Platform.EMAIL

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        max_fetch: int = 200,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_fetch = max(1, max_fetch)
        self._ssl_context = ssl_context
        # Messages left out by loop protection in the last poll, per account id.
        self.last_ignored: dict[int, int] = {}

    def _tls(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def rate_limit(self, account: AccountRef) -> RateLimitState:
        return RateLimitState()  # IMAP and SMTP publish no rate-limit state

    async def aclose(self) -> None:
        """Nothing to close: every poll and send opens and closes its own connection."""

    # -- polling -------------------------------------------------------------------

    async def poll(self, account: AccountRef, cursor: str | None) -> PollResult:
        """New mail since the checkpoint, in UID order. Raises SendError: AUTH_REVOKED
        when the server refuses the login, RETRYABLE for network trouble."""
        settings = MailSettings.from_account(account)
        return await asyncio.to_thread(self._poll_sync, account, settings, cursor)

    def _imap(self, settings: MailSettings) -> imaplib.IMAP4:
        if not settings.imap_host:
            raise SendError(SendFailure.PERMANENT, "imap_host is not configured")
        if settings.imap_security == "ssl":
            return imaplib.IMAP4_SSL(
                settings.imap_host,
                settings.imap_port,
                ssl_context=self._tls(),
                timeout=self.timeout,
            )
        client = imaplib.IMAP4(settings.imap_host, settings.imap_port, timeout=self.timeout)
        if settings.imap_security == "starttls":
            client.starttls(ssl_context=self._tls())
        return client

    def _poll_sync(
        self, account: AccountRef, settings: MailSettings, cursor: str | None
    ) -> PollResult:
        try:
            client = self._imap(settings)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise SendError(SendFailure.RETRYABLE, f"IMAP connect: {type(exc).__name__}") from None
        try:
            try:
                client.login(settings.username, settings.password)
            except imaplib.IMAP4.error:
                raise SendError(
                    SendFailure.AUTH_REVOKED, "IMAP server refused the login", code="LOGIN"
                ) from None
            return self._read_new(client, account, settings, cursor)
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise SendError(SendFailure.RETRYABLE, f"IMAP: {type(exc).__name__}") from None
        except imaplib.IMAP4.error as exc:
            raise SendError(SendFailure.RETRYABLE, f"IMAP command failed: {exc}") from None
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.logout()

    def _read_new(
        self,
        client: imaplib.IMAP4,
        account: AccountRef,
        settings: MailSettings,
        cursor: str | None,
    ) -> PollResult:
        status, _ = client.select(_quote_mailbox(settings.mailbox), readonly=True)
        if status != "OK":
            raise SendError(SendFailure.PERMANENT, f"cannot select {settings.mailbox}")
        _, validity_data = client.response("UIDVALIDITY")
        if not validity_data or validity_data[0] is None:
            raise SendError(SendFailure.RETRYABLE, "server sent no UIDVALIDITY")
        uidvalidity = int(validity_data[0])
        checkpoint = parse_cursor(cursor)
        last_uid = 0
        if checkpoint is not None and checkpoint[0] == uidvalidity:
            last_uid = checkpoint[1]
        elif checkpoint is not None:
            log.info(
                "mailbox of account %s changed UIDVALIDITY %s -> %s: resynchronising",
                account.id,
                checkpoint[0],
                uidvalidity,
            )
        status, data = client.uid("SEARCH", "UID", f"{last_uid + 1}:*")
        if status != "OK":
            raise SendError(SendFailure.RETRYABLE, "UID SEARCH failed")
        uids = sorted({int(u) for chunk in data if chunk for u in chunk.split()})
        uids = [u for u in uids if u > last_uid][: self.max_fetch]
        messages: list[InboundMessage] = []
        ignored = 0
        if uids:
            fetched = self._fetch(client, uids)
            for uid in uids:
                if uid not in fetched:
                    continue
                raw, internal_date = fetched[uid]
                message = parse_email(
                    raw,
                    account,
                    own_addresses=(settings.address,),
                    uid=uid,
                    uidvalidity=uidvalidity,
                    internal_date=internal_date,
                )
                if message is None:
                    ignored += 1
                else:
                    messages.append(message)
            last_uid = uids[-1]
        self.last_ignored[account.id] = ignored
        return PollResult(messages=messages, cursor=format_cursor(uidvalidity, last_uid))

    @staticmethod
    def _fetch(client: imaplib.IMAP4, uids: Sequence[int]) -> dict[int, tuple[bytes, datetime]]:
        uid_set = ",".join(str(u) for u in uids)
        status, data = client.uid("FETCH", uid_set, "(UID FLAGS INTERNALDATE BODY.PEEK[])")
        if status != "OK":
            raise SendError(SendFailure.RETRYABLE, "UID FETCH failed")
        fetched: dict[int, tuple[bytes, datetime]] = {}
        for item in data:
            if not isinstance(item, tuple) or len(item) < 2:
                continue
            head, literal = item[0], item[1]
            uid_match = _UID_RE.search(head)
            if uid_match is None or not isinstance(literal, bytes):
                continue
            when = datetime.now(UTC)
            date_match = _INTERNALDATE_RE.search(head)
            if date_match is not None:
                parsed = imaplib.Internaldate2tuple(b'INTERNALDATE "' + date_match[1] + b'"')
                if parsed is not None:
                    when = datetime(*parsed[:6], tzinfo=UTC)
            fetched[int(uid_match[1])] = (literal, when)
        return fetched

    # -- sending -------------------------------------------------------------------

    async def send(
        self, account: AccountRef, request: OutboundRequest, *, automatic: bool = False
    ) -> SendResult:
        """Send ``request`` as an e-mail and return the Message-ID we gave it.

        ``automatic`` marks machine-written replies (acknowledgements, out-of-hours
        notices) with ``Auto-Submitted: auto-replied``; an agent's reply carries none.
        """
        if request.kind is not ReplyKind.EMAIL:
            raise SendError(SendFailure.PERMANENT, f"e-mail cannot send {request.kind.value}")
        settings = MailSettings.from_account(account)
        message = compose_reply(settings, request, automatic=automatic)
        await asyncio.to_thread(self._send_sync, settings, message, request.recipient_id or "")
        message_id = str(message["Message-ID"])
        return SendResult(
            platform_message_id=message_id,
            conversation_id=request.conversation_id or request.root_id or message_id,
            sent_at=datetime.now(UTC),
        )

    def _smtp(self, settings: MailSettings) -> smtplib.SMTP:
        if not settings.smtp_host:
            raise SendError(SendFailure.PERMANENT, "smtp_host is not configured")
        if settings.smtp_security == "ssl":
            return smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=self.timeout, context=self._tls()
            )
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=self.timeout)
        if settings.smtp_security == "starttls":
            client.starttls(context=self._tls())
        return client

    def _send_sync(self, settings: MailSettings, message: EmailMessage, recipient: str) -> None:
        try:
            with self._smtp(settings) as client:
                client.ehlo_or_helo_if_needed()
                if settings.password:
                    client.login(settings.username, settings.password)
                client.send_message(message, from_addr=settings.address, to_addrs=[recipient])
        except SendError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            raise classify_smtp_error(exc) from None


def _quote_mailbox(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
