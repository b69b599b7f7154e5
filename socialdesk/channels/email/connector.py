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
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from socialdesk.channels.base import (
    AccountRef,
    Identity,
    OutboundRequest,
    PollResult,
    RateLimitState,
    ReplyKind,
    SendError,
    SendFailure,
    SendResult,
)
from socialdesk.channels.email.message import (
    content_hash,
    html_to_text,
    loop_reason,
    message_ids,
    parse_email,
    trim_quoted_reply,
)
from socialdesk.domain.enums import Platform
from socialdesk.domain.messages import InboundMessage

log = logging.getLogger(__name__)
# Message-level helpers live in email_message; re-exported for callers of this module.
__all__ = [
    "EmailConnector",
    "MailSettings",
    "classify_smtp_error",
    "compose_reply",
    "content_hash",
    "format_cursor",
    "html_to_text",
    "loop_reason",
    "make_message_id",
    "message_ids",
    "parse_cursor",
    "parse_email",
    "reply_references",
    "reply_subject",
    "trim_quoted_reply",
]

SECURITY_MODES = ("ssl", "starttls", "none")
_UID_RE = re.compile(rb"UID (\d+)")
_INTERNALDATE_RE = re.compile(rb'INTERNALDATE "([^"]+)"')
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
    # Images go as attachment parts (multipart/mixed), named as the agent uploaded them.
    # The reply is plain text, with no HTML <img> to hold an alt: a part's description is
    # its Content-Description (RFC 2045), on one line.
    for image in request.images:
        maintype, _, subtype = image.mime_type.partition("/")
        alt = " ".join(image.alt.split())
        headers = [f"Content-Description: {alt}"] if alt else None
        message.add_attachment(
            image.data, maintype=maintype, subtype=subtype, filename=image.name, headers=headers
        )
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

    async def identify(self, account: AccountRef) -> Identity:
        """Log in to IMAP and to SMTP (when it asks for a password) and log out: the
        mailbox is the account's when both servers accept the login."""
        settings = MailSettings.from_account(account)
        await asyncio.to_thread(self._login_sync, settings)
        return Identity(account.external_id, settings.address or settings.username)

    def _login_sync(self, settings: MailSettings) -> None:
        try:
            client = self._imap(settings)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise SendError(SendFailure.RETRYABLE, f"IMAP connect: {type(exc).__name__}") from None
        try:
            client.login(settings.username, settings.password)
        except imaplib.IMAP4.error:
            raise SendError(
                SendFailure.AUTH_REVOKED, "IMAP server refused the login", code="LOGIN"
            ) from None
        except OSError as exc:
            raise SendError(SendFailure.RETRYABLE, f"IMAP: {type(exc).__name__}") from None
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.logout()
        if not settings.smtp_host:
            return
        try:
            with self._smtp(settings) as smtp:
                smtp.ehlo_or_helo_if_needed()
                if settings.password and smtp.has_extn("auth"):
                    smtp.login(settings.username, settings.password)
        except SendError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            raise classify_smtp_error(exc) from None

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
