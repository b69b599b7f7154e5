"""Real mail servers on loopback: an IMAP server (pymap, in-memory backend) holding the
brand's mailbox, and an SMTP server (aiosmtpd) that records what we send.

    with MailEmulator() as mail:
        uid = mail.deliver(mail.customer_mail("ann@example.org", "Order 7", "Where is it?"))
        account = AccountRef(..., settings=mail.account_settings(),
                             secrets=mail.account_secrets())
        ...
        (sent,) = mail.wait_for_sent(1)

Both servers run in one daemon thread with its own event loop, on ports the OS picks.
The emulator acts as the customer's side through the protocols themselves: ``deliver``
is an IMAP ``APPEND`` into the brand's INBOX (what a mail delivery agent does), and
``reset_mailbox`` is an IMAP ``RENAME INBOX``, which gives INBOX a new UIDVALIDITY.
The SMTP server refuses ``MAIL`` before ``AUTH`` (no TLS: it is loopback) and can be told to
answer the next transactions with a given reply code.

pymap and aiosmtpd are test dependencies (the ``dev`` extra); they are imported when an
emulator starts, so importing this module costs nothing in production.
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from typing import Any

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class SentMail:
    """One SMTP transaction the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    login: str | None

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass(frozen=True, slots=True)
class _Rejection:
    stage: str  # "MAIL", "RCPT" or "DATA"
    code: int
    text: str

    @property
    def reply(self) -> str:
        return f"{self.code} {self.text}"


class _SmtpHandler:
    """aiosmtpd handler: records accepted mail, answers queued rejections."""

    def __init__(self, emulator: MailEmulator) -> None:
        self._emulator = emulator

    def _rejection(self, stage: str) -> str | None:
        queue = self._emulator._rejections
        with self._emulator._lock:
            if queue and queue[0].stage == stage:
                return queue.popleft().reply
        return None

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        rejected = self._rejection("MAIL")
        if rejected:
            return rejected
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        rejected = self._rejection("RCPT")
        if rejected:
            return rejected
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        rejected = self._rejection("DATA")
        if rejected:
            return rejected
        raw = envelope.original_content or envelope.content
        login = session.auth_data.login.decode() if session.auth_data is not None else None
        mail = SentMail(
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=raw if isinstance(raw, bytes) else str(raw).encode(),
            login=login,
        )
        with self._emulator._sent_changed:
            self._emulator._sent.append(mail)
            self._emulator._sent_changed.notify_all()
        return "250 Message accepted for delivery"


class MailEmulator:
    """An IMAP mailbox for ``address`` and an SMTP relay, both on 127.0.0.1."""

    def __init__(
        self,
        *,
        address: str = "support@acme.test",
        password: str = "mail-test-password",  # noqa: S107 (loopback test server)
    ) -> None:
        self.address = address
        self.password = password
        self.host = LOOPBACK
        self.imap_port = 0
        self.smtp_port = 0
        self._lock = threading.Lock()
        self._sent: list[SentMail] = []
        self._sent_changed = threading.Condition(self._lock)
        self._rejections: deque[_Rejection] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- lifecycle ---------------------------------------------------------------

    def start(
        self, timeout: float = 10.0, *, imap_port: int = 0, smtp_port: int = 0
    ) -> MailEmulator:
        """Serve on the given ports (0: any free port, as tests want)."""
        imap_sock = _bound_socket(imap_port)
        smtp_sock = _bound_socket(smtp_port)
        self.imap_port = imap_sock.getsockname()[1]
        self.smtp_port = smtp_sock.getsockname()[1]
        self._thread = threading.Thread(
            target=self._run, args=(imap_sock, smtp_sock), name="mail-emulator", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the mail emulator did not start")
        if self._error is not None:
            raise RuntimeError("the mail emulator failed to start") from self._error
        return self

    def _run(self, imap_sock: socket.socket, smtp_sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start_servers(imap_sock, smtp_sock))
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            for server in self._servers:
                server.close()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    async def _start_servers(self, imap_sock: socket.socket, smtp_sock: socket.socket) -> None:
        from aiosmtpd.smtp import SMTP, AuthResult
        from proxyprotocol.reader import ProxyProtocolReader
        from pymap.backend.dict import Config, DictBackend, Login
        from pymap.concurrent import Subsystem
        from pymap.imap import IMAPServer
        from pysasl.hashing import BuiltinHash

        class _Config(Config):
            @property
            def greeting(self) -> bytes:  # the default looks up this host's FQDN
                return b"socialdesk mail emulator ready"

        args = argparse.Namespace(passlib_cfg=None, proxy_protocol=None)
        config = _Config(
            args,
            host=LOOPBACK,
            port=self.imap_port,
            demo_data=False,
            demo_user=self.address,
            demo_password=self.password,
            tls_enabled=False,
            secure_auth=False,
            invalid_user_sleep=0.0,
            reject_dnsbl=False,
            cpu_subsystem=Subsystem.for_asyncio(),
            # A test password needs no key stretching; PBKDF2 costs 0.2 s per login.
            hash_context=BuiltinHash(rounds=1),
        )
        config.apply_context()
        login = Login(config)
        await DictBackend._add_demo_user(config, login)
        imap_server = IMAPServer(login, config)

        async def serve_imap(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sock_info: Any
        ) -> None:
            sock = writer.get_extra_info("socket")
            if sock is not None:  # pymap writes a response in pieces: no Nagle delays
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                await imap_server(reader, writer, sock_info)
            finally:
                writer.close()  # pymap leaves the socket to the garbage collector

        imap = ProxyProtocolReader(config.proxy_protocol).get_callback(serve_imap)
        self._servers.append(await asyncio.start_server(imap, sock=imap_sock))

        address, password = self.address.encode(), self.password.encode()

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
        ) -> AuthResult:
            ok = getattr(auth_data, "login", None) == address and auth_data.password == password
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

        handler = _SmtpHandler(self)
        loop = asyncio.get_running_loop()
        self._servers.append(
            await loop.create_server(
                lambda: SMTP(
                    handler,
                    hostname="mail.emulator.test",
                    authenticator=authenticate,
                    auth_require_tls=False,
                ),
                sock=smtp_sock,
            )
        )

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
        self._thread = None

    def __enter__(self) -> MailEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- account ---------------------------------------------------------------

    def account_settings(self) -> dict[str, object]:
        """Connection settings for ``AccountRef.settings`` (TLS off: loopback)."""
        return {
            "address": self.address,
            "imap_host": self.host,
            "imap_port": self.imap_port,
            "imap_security": "none",
            "smtp_host": self.host,
            "smtp_port": self.smtp_port,
            "smtp_security": "none",
        }

    def account_secrets(self) -> dict[str, str]:
        return {"username": self.address, "password": self.password}

    # -- acting as the customer's side --------------------------------------------

    def _imap(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.imap_port, timeout=10)
        client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.login(self.address, self.password)
        return client

    @staticmethod
    def customer_mail(
        sender: str,
        subject: str,
        body: str,
        *,
        to: str | None = None,
        sender_name: str | None = None,
        message_id: str | None = None,
        in_reply_to: str | None = None,
        references: tuple[str, ...] | list[str] = (),
        html: str | None = None,
        date: datetime | None = None,
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        """A message as a customer's mail program would write it."""
        message = EmailMessage()
        message["From"] = f"{sender_name} <{sender}>" if sender_name else sender
        message["To"] = to or "support@acme.test"
        message["Subject"] = subject
        message["Date"] = format_datetime(date or datetime.now(UTC))
        message["Message-ID"] = message_id or make_msgid(domain=sender.rpartition("@")[2])
        if in_reply_to:
            message["In-Reply-To"] = in_reply_to
        if references:
            message["References"] = " ".join(references)
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
        return message

    def deliver(self, mail: EmailMessage | bytes, *, mailbox: str = "INBOX") -> int:
        """Put a message into the mailbox (IMAP APPEND); returns its UID."""
        raw = mail if isinstance(mail, bytes) else mail.as_bytes(policy=policy.SMTP)
        client = self._imap()
        try:
            status, data = client.append(mailbox, None, None, raw)
            if status != "OK":
                raise RuntimeError(f"APPEND failed: {data!r}")
            text = (data[0] or b"").decode()
            # [APPENDUID <uidvalidity> <uid>] (RFC 4315)
            marker = text.split("APPENDUID", 1)[1].split("]", 1)[0].split()
            return int(marker[1])
        finally:
            client.logout()

    def uidvalidity(self, mailbox: str = "INBOX") -> int:
        client = self._imap()
        try:
            client.select(mailbox, readonly=True)
            _, data = client.response("UIDVALIDITY")
            return int(data[0])
        finally:
            client.logout()

    def reset_mailbox(self) -> int:
        """Move every message out of INBOX (``RENAME INBOX``), which leaves an empty
        INBOX with a new UIDVALIDITY, as a server rebuild or migration does. Returns the
        new UIDVALIDITY."""
        before = self.uidvalidity()
        for attempt in range(10):
            client = self._imap()
            try:
                client.rename("INBOX", f"Archive-{time.monotonic_ns()}-{attempt}")
            finally:
                client.logout()
            after = self.uidvalidity()
            if after != before:
                return after
        raise RuntimeError("UIDVALIDITY did not change")

    # -- what we sent -----------------------------------------------------------------

    def sent(self) -> list[SentMail]:
        with self._lock:
            return list(self._sent)

    def wait_for_sent(self, count: int, timeout: float = 5.0) -> list[SentMail]:
        deadline = time.monotonic() + timeout
        with self._sent_changed:
            while len(self._sent) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} sent mails, got {len(self._sent)}")
                self._sent_changed.wait(remaining)
            return list(self._sent)

    def reject_next(self, code: int, text: str, *, stage: str = "RCPT") -> None:
        """Answer the next ``MAIL``, ``RCPT`` or ``DATA`` command with ``code text``."""
        if stage not in ("MAIL", "RCPT", "DATA"):
            raise ValueError(stage)
        with self._lock:
            self._rejections.append(_Rejection(stage, code, text))


def _bound_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    return sock
