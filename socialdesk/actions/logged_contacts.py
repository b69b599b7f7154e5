"""Contacts handled off-line (a phone call, a walk-in visit, anything else) logged by the
agent who handled them, as tickets of their own channel, so the reports compare social
with phone and e-mail (docs/reports.md, *Logged contacts*).

The API (``POST /api/v1/tickets``) and the inbox's "Log a contact" form both call
:func:`log_contact`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, record_ticket_change
from socialdesk.actions.tickets import require_writer, set_status
from socialdesk.domain.enums import (
    Direction,
    LoggedChannel,
    TicketEventKind,
    TicketStatus,
    Visibility,
)
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.db import utcnow
from socialdesk.store.models import Contact, ContactIdentity, Message, Ticket, User

# A contact longer than a working day was not one contact.
MAX_HANDLE_SECONDS = 8 * 3600
# Contacts are logged as they end or soon after; older ones belong to an import.
MAX_LOGGED_AGO = timedelta(days=30)
MAX_SUMMARY = 5000
PHONE_IDENTITY = "phone"
_PHONE_JUNK = re.compile(r"[\s().\-/]")


@dataclass(frozen=True, slots=True)
class LoggedContact:
    """What the agent typed about the contact."""

    channel: LoggedChannel
    summary: str
    handle_seconds: int
    name: str = ""
    phone: str = ""
    email: str = ""
    solved: bool = False
    # When the contact began; by default, handle_seconds before it was logged.
    started_at: datetime | None = None


def normalize_phone(phone: str) -> str:
    """Digits with an optional leading +, the way the number is matched next time."""
    cleaned = _PHONE_JUNK.sub("", phone.strip())
    digits = cleaned.removeprefix("+")
    if not digits.isdigit() or not 5 <= len(digits) <= 20:
        raise ActionError(f"not a phone number: {phone[:40]!r}", 422)
    return cleaned


def _checked(entry: LoggedContact, now: datetime) -> tuple[str, str, str, datetime]:
    summary = entry.summary.strip()
    if not summary:
        raise ActionError("a logged contact needs a summary of what was said", 422)
    if len(summary) > MAX_SUMMARY:
        raise ActionError(f"the summary is at most {MAX_SUMMARY} characters", 422)
    if not 0 <= entry.handle_seconds <= MAX_HANDLE_SECONDS:
        raise ActionError(f"handle_seconds must be between 0 and {MAX_HANDLE_SECONDS}", 422)
    email = entry.email.strip().lower()
    if email and (len(email) > 320 or "@" not in email.strip("@")):
        raise ActionError(f"not an e-mail address: {entry.email[:40]!r}", 422)
    phone = normalize_phone(entry.phone) if entry.phone.strip() else ""
    started = entry.started_at or now - timedelta(seconds=entry.handle_seconds)
    if started.tzinfo is None or started.utcoffset() is None:
        raise ActionError("started_at needs a time zone, e.g. 2026-11-24T09:00:00+01:00", 422)
    if started > now:
        raise ActionError("started_at is in the future", 422)
    if now - started > MAX_LOGGED_AGO:
        raise ActionError(f"started_at is more than {MAX_LOGGED_AGO.days} days ago", 422)
    return summary, email, phone, started


def _contact(
    session: Session, workspace_id: int, name: str, email: str, phone: str
) -> Contact | None:
    """The customer by e-mail address, then by phone number; created when unknown.
    Nobody named and no address: an anonymous contact (no contact row)."""
    contact: Contact | None = None
    if email:
        contact = session.scalar(
            select(Contact)
            .where(
                Contact.workspace_id == workspace_id,
                func.lower(Contact.email) == email,
                Contact.merged_into_id.is_(None),
            )
            .order_by(Contact.id)
            .limit(1)
        )
    phone_identity = None
    if phone:
        phone_identity = session.scalar(
            select(ContactIdentity).where(
                ContactIdentity.workspace_id == workspace_id,
                ContactIdentity.platform == PHONE_IDENTITY,
                ContactIdentity.external_user_id == phone,
            )
        )
        if contact is None and phone_identity is not None:
            contact = session.get(Contact, phone_identity.contact_id)
            while contact is not None and contact.merged_into_id is not None:
                contact = session.get(Contact, contact.merged_into_id)
    if contact is None:
        if not (name or email or phone):
            return None
        contact = Contact(workspace_id=workspace_id, display_name=name or phone or email)
        contact.email = email or None
        session.add(contact)
        session.flush()
    elif email and not contact.email:
        contact.email = email
    if phone and phone_identity is None:
        session.add(
            ContactIdentity(
                workspace_id=workspace_id,
                contact_id=contact.id,
                platform=PHONE_IDENTITY,
                external_user_id=phone,
                handle=phone,
                display_name=name or None,
            )
        )
    return contact


def log_contact(session: Session, actor: User, workspace_id: int, entry: LoggedContact) -> Ticket:
    """A ticket of the contact's channel, assigned to the agent who handled it, holding
    the summary as a note; solved at once when asked. It never waits for a reply."""
    require_writer(actor)
    now = utcnow()
    summary, email, phone, started = _checked(entry, now)
    name = entry.name.strip()[:200]
    contact = _contact(session, workspace_id, name, email, phone)
    ticket = Ticket(
        workspace_id=workspace_id,
        contact_id=contact.id if contact else None,
        platform=str(entry.channel),
        subject=summary.splitlines()[0][:300],
        status=str(TicketStatus.OPEN),
        assignee_id=actor.id,
        needs_reply=False,
        awaiting_since=None,
        message_count=1,
        first_message_at=started,
        last_message_at=started,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    note = Message(
        ticket_id=ticket.id,
        workspace_id=workspace_id,
        platform=str(entry.channel),
        direction=str(Direction.NOTE),
        visibility=str(Visibility.PRIVATE),
        author_user_id=actor.id,
        author_name=actor.name or actor.email,
        body=summary,
        created_at=started,
        received_at=now,
        meta={"logged_contact": True, "handle_seconds": entry.handle_seconds},
    )
    session.add(note)
    session.flush()
    record_ticket_change(
        session,
        ticket,
        actor,
        TicketEventKind.CREATED,
        {"rule": "logged_contact", "channel": str(entry.channel)},
        at=started,
    )
    record_ticket_change(
        session,
        ticket,
        actor,
        TicketEventKind.CONTACT_LOGGED,
        {
            "message_id": note.id,
            "channel": str(entry.channel),
            "handle_seconds": entry.handle_seconds,
            "contact_id": ticket.contact_id,
        },
        at=started,
    )
    if entry.solved:
        set_status(session, ticket, actor, TicketStatus.SOLVED)
    queue_live_event(
        session,
        LiveEvent("message.created", workspace_id, {"ticket_id": ticket.id, "message_id": note.id}),
    )
    return ticket
