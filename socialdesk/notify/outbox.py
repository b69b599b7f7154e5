"""Queue an e-mail notification: one ``notification_outbox`` row, written on the caller's
connection so it commits (or rolls back) with the change that caused it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from socialdesk.store.models import NotificationOutboxEntry
from socialdesk.store.models.base import table_of

outbox_table = table_of(NotificationOutboxEntry)

SUBJECT_LIMIT = 300


def ticket_url(public_url: str, ticket_id: int) -> str:
    return f"{public_url.rstrip('/')}/tickets/{ticket_id}"


def rule_email(
    *, rule_name: str, message: str, ticket_id: int, ticket_subject: str, public_url: str
) -> tuple[str, str]:
    """Subject and plain-text body of a ``notify_email`` rule action."""
    about = " ".join(ticket_subject.split()) or f"ticket #{ticket_id}"
    subject = f"[socialdesk] {rule_name}: #{ticket_id} {about}"
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 1] + "…"
    body = (
        f"{message}\n\n"
        f"Ticket #{ticket_id}: {about}\n"
        f"{ticket_url(public_url, ticket_id)}\n\n"
        f'Sent by the automation rule "{rule_name}".\n'
    )
    return subject, body


def enqueue_email(
    conn: Connection,
    *,
    workspace_id: int,
    recipients: list[str],
    subject: str,
    body: str,
    now: datetime,
    ticket_id: int | None = None,
    notification_id: int | None = None,
    rule_id: int | None = None,
    smtp_configured: bool = True,
) -> int:
    """``smtp_configured`` false writes the row as ``not_configured`` right away, so the
    admin sees why and an idle worker need not poll for it."""
    from socialdesk.notify.worker import NOT_CONFIGURED, NOT_CONFIGURED_REASON

    values: dict[str, Any] = {
        "workspace_id": workspace_id,
        "ticket_id": ticket_id,
        "notification_id": notification_id,
        "rule_id": rule_id,
        "recipients": recipients,
        "subject": subject,
        "body": body,
        "state": "queued" if smtp_configured else NOT_CONFIGURED,
        "last_error": None if smtp_configured else NOT_CONFIGURED_REASON,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    result = conn.execute(insert(outbox_table).values(values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]
