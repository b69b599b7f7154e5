"""The system sender: one SMTP relay configured by settings (``SOCIALDESK_SMTP_*``).

``smtplib`` is blocking; the notification worker runs in a thread of its own, so a slow
relay never holds up a request. Errors are classified by reply code like the e-mail
channel's (``channels/email.classify_smtp_error``): 4xx and dropped connections are
retried, 5xx and refused credentials are not.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from socialdesk.channels.base import SendError
from socialdesk.channels.email.connector import classify_smtp_error
from socialdesk.config import Settings


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str | None = None
    # repr=False: the password never reaches a log line or a traceback's locals dump.
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    timeout: float = 20.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """``None`` when no SMTP host is set (notifications wait as "not_configured")."""
        if not settings.smtp_host:
            return None
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.notify_from,
            username=settings.smtp_username or None,
            password=password,
            starttls=settings.smtp_starttls,
        )


def compose(
    config: SmtpConfig, recipients: list[str], subject: str, body: str, at: datetime
) -> EmailMessage:
    # Folding at 78 columns put the whole subject on a continuation line (a leading
    # space in mail clients); headers may be up to 998 characters (RFC 5322).
    message = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))
    message["From"] = config.sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = format_datetime(at)
    domain = config.sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid("notify", domain=domain)
    # Keeps auto-responders (out-of-office) from answering a machine.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def send(config: SmtpConfig, message: EmailMessage) -> None:
    """Hand the message to the relay; raises SendError (classified) on failure."""
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(message)
    except SendError:
        raise
    except (smtplib.SMTPException, OSError, TimeoutError) as exc:
        raise classify_smtp_error(exc) from None  # from None: no credentials in the chain
