"""Agent actions on a ticket: reply (now, scheduled, or by e-mail), note, assign,
status, priority, tags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from socialdesk.actions.email_route import (
    EmailRoute,
    email_subject,
)
from socialdesk.actions.mentions import notify_mentions
from socialdesk.actions.recording import ActionError, record_ticket_change, require_role
from socialdesk.actions.uploads import link_uploads
from socialdesk.delivery.enqueue import enqueue
from socialdesk.dispatch import (
    AgentReplied,
    PriorityChanged,
    ScheduledReplySent,
    StatusChanged,
    emit,
)
from socialdesk.domain.enums import (
    DeliveryState,
    Direction,
    Platform,
    Priority,
    Role,
    TicketEventKind,
    TicketStatus,
    Visibility,
)
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.db import utcnow
from socialdesk.store.models import (
    Message,
    OutboxEntry,
    Team,
    Ticket,
    TicketTag,
    Upload,
    User,
)

WRITE_ROLES = frozenset({Role.ADMIN, Role.LEAD, Role.AGENT, Role.MARKETING})
MAX_TAG_LENGTH = 80
MAX_SCHEDULE_AHEAD = timedelta(days=30)


def check_send_at(send_at: datetime, now: datetime) -> str | None:
    """Why a scheduled send time cannot be used, or None when it can."""
    if send_at.tzinfo is None or send_at.utcoffset() is None:
        return "send_at needs a time zone, e.g. 2026-11-24T09:00:00+01:00"
    if send_at <= now:
        return "send_at is in the past"
    if send_at - now > MAX_SCHEDULE_AHEAD:
        return f"send_at is more than {MAX_SCHEDULE_AHEAD.days} days ahead"
    return None


def require_writer(actor: User) -> None:
    """Viewers read only: every write action starts here."""
    require_role(actor, WRITE_ROLES, "your role can read tickets but not change them")


def reply(
    session: Session,
    ticket: Ticket,
    actor: User,
    body: str,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    status_after: TicketStatus | None = TicketStatus.PENDING,
    client_key: str | None = None,
    send_at: datetime | None = None,
    via_email: EmailRoute | None = None,
    template: dict[str, object] | None = None,
    uploads: Sequence[Upload] = (),
    reply_to_message_id: int | None = None,
) -> Message:
    """Store an agent's reply as an outbound message queued for delivery.

    ``uploads``: images already checked against the network (``actions/uploads.py``),
    linked to the message as its attachments before it is queued.

    ``send_at``: a scheduled send. The message waits as ``scheduled`` with its outbox
    row due at that time (the delivery worker claims only due rows); until then it is
    not the ticket's answer (no first response, SLA clocks keep running, status kept)
    and can be edited or cancelled. ``via_email``: sent as an e-mail from that account
    to that address, whatever network the ticket came from.
    """
    require_writer(actor)
    body = body.strip()
    if not body:
        raise ActionError("a reply needs a body")
    if send_at is not None:
        problem = check_send_at(send_at, utcnow())
        if problem:
            raise ActionError(problem, 422)
    if client_key:
        # A double click or a retried request carries the same key: answer with the
        # message stored the first time instead of queueing a second post.
        existing = session.scalars(
            select(Message)
            .where(
                Message.ticket_id == ticket.id,
                Message.author_user_id == actor.id,
                Message.direction == str(Direction.OUTBOUND),
            )
            .order_by(Message.id.desc())
            .limit(20)
        ).all()
        for message in existing:
            if message.meta.get("client_key") == client_key:
                return message
    now = utcnow()
    meta: dict[str, object] = {"client_key": client_key} if client_key else {}
    account_id, platform, subject = ticket.channel_account_id, ticket.platform, None
    if via_email is not None:
        account_id, platform = via_email.account_id, str(Platform.EMAIL)
        visibility = Visibility.PRIVATE
        meta["to"] = via_email.address
        first = session.scalar(
            select(Message.body)
            .where(Message.ticket_id == ticket.id, Message.direction == str(Direction.INBOUND))
            .order_by(Message.created_at, Message.id)
            .limit(1)
        )
        subject = email_subject(ticket.subject, first)
    if send_at is not None:
        meta["scheduled_for"] = send_at.isoformat()
    if template is not None:
        meta["template"] = template  # an approved template (WhatsApp outside its window)
    if reply_to_message_id is not None:
        # Under this message rather than the customer's newest (thanking a fan who answered).
        meta["reply_to_message_id"] = reply_to_message_id
    message = Message(
        ticket_id=ticket.id,
        workspace_id=ticket.workspace_id,
        channel_account_id=account_id,
        platform=platform,
        direction=str(Direction.OUTBOUND),
        visibility=str(visibility),
        author_user_id=actor.id,
        author_name=actor.name or actor.email,
        subject=subject,
        body=body,
        created_at=now,
        received_at=now,
        delivery_state=str(DeliveryState.SCHEDULED if send_at else DeliveryState.QUEUED),
        meta=meta,
    )
    session.add(message)
    session.flush()
    link_uploads(session, message, uploads)
    if message.channel_account_id is not None:
        entry = enqueue(session, message)
        if send_at is not None:
            entry.next_attempt_at = send_at
    else:
        message.delivery_state = str(DeliveryState.FAILED)
        message.delivery_error = "this ticket has no channel account to reply through"
    if send_at is not None and message.delivery_state == DeliveryState.SCHEDULED:
        record_ticket_change(
            session,
            ticket,
            actor,
            TicketEventKind.REPLY_SCHEDULED,
            {"message_id": message.id, "send_at": send_at.isoformat()},
            at=now,
        )
        _message_event(session, message, "message.created")
        return message
    _record_answer(session, ticket, actor, message, now)
    if status_after is not None:
        set_status(session, ticket, actor, status_after)
    _message_event(session, message, "message.created")
    return message


def _record_answer(
    session: Session, ticket: Ticket, actor: User | None, message: Message, now: datetime
) -> None:
    """The reply is the ticket's answer: event, first response, nobody waiting, SLA."""
    waited = (now - ticket.awaiting_since).total_seconds() if ticket.awaiting_since else None
    record_ticket_change(
        session,
        ticket,
        actor,
        TicketEventKind.REPLIED,
        {
            "message_id": message.id,
            "response_seconds": waited,
            "first": ticket.first_response_at is None,
            "visibility": message.visibility,
        },
        at=now,
    )
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    ticket.needs_reply = False
    ticket.awaiting_since = None
    ticket.last_outbound_at = now
    ticket.last_message_at = max(ticket.last_message_at, now)
    ticket.message_count += 1
    emit(AgentReplied(session, ticket, actor, message, now))


def on_scheduled_reply_sent(event: ScheduledReplySent) -> None:
    """A scheduled reply went out (announced by the delivery worker in the transaction
    that records the send): only now is it the ticket's answer, as a reply sent at
    once would have been when written; a ticket still open waits on the customer."""
    session, message, now = event.session, event.message, event.at
    ticket = session.get(Ticket, message.ticket_id)
    if ticket is None or not message.meta.get("scheduled_for"):
        return
    actor = session.get(User, message.author_user_id) if message.author_user_id else None
    _record_answer(session, ticket, actor, message, now)
    # The author may have lost write access since scheduling: the send stands, the
    # status is left alone (raising here would undo the record of a post that is out).
    writer = actor is not None and actor.is_active and actor.role in WRITE_ROLES
    if writer and actor is not None and ticket.status in (TicketStatus.NEW, TicketStatus.OPEN):
        set_status(session, ticket, actor, TicketStatus.PENDING)


def _message_event(session: Session, message: Message, kind: str) -> None:
    queue_live_event(
        session,
        LiveEvent(
            kind, message.workspace_id, {"ticket_id": message.ticket_id, "message_id": message.id}
        ),
    )


def _scheduled_entry(session: Session, ticket: Ticket, message: Message) -> OutboxEntry:
    """The scheduled reply's outbox row, locked, while the worker has not claimed it.

    The worker marks a row ``sending`` in its own committed transaction before the
    network call; reading the row ``FOR UPDATE`` (fresh, not from the identity map)
    means we either see that claim and refuse, or hold the row so the claim waits and
    then finds it gone. On SQLite, write transactions are serialized anyway.
    """
    if message.ticket_id != ticket.id or message.direction != str(Direction.OUTBOUND):
        raise ActionError("that message is not a reply on this ticket", 404)
    entry = session.scalar(
        select(OutboxEntry)
        .where(OutboxEntry.message_id == message.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    session.refresh(message)
    if (
        entry is None
        or entry.state != "queued"
        or message.delivery_state != DeliveryState.SCHEDULED
    ):
        raise ActionError(
            "this reply is no longer scheduled: it is being sent or was cancelled", 409
        )
    return entry


def edit_scheduled_reply(
    session: Session, ticket: Ticket, actor: User, message: Message, body: str
) -> Message:
    require_writer(actor)
    body = body.strip()
    if not body:
        raise ActionError("a reply needs a body")
    _scheduled_entry(session, ticket, message)
    before = message.body
    message.body = body
    record_ticket_change(
        session,
        ticket,
        actor,
        TicketEventKind.SCHEDULED_REPLY_EDITED,
        {"message_id": message.id, "from": before[:200], "to": body[:200]},
    )
    _message_event(session, message, "message.updated")
    return message


def cancel_scheduled_reply(
    session: Session, ticket: Ticket, actor: User, message: Message
) -> Message:
    """Remove the outbox row (so it can never be sent) and mark the message cancelled."""
    require_writer(actor)
    entry = _scheduled_entry(session, ticket, message)
    session.delete(entry)
    message.delivery_state = str(DeliveryState.CANCELLED)
    message.meta = {**message.meta, "cancelled_by": actor.id, "cancelled_at": utcnow().isoformat()}
    record_ticket_change(
        session,
        ticket,
        actor,
        TicketEventKind.SCHEDULED_REPLY_CANCELLED,
        {"message_id": message.id, "send_at": message.meta.get("scheduled_for")},
    )
    _message_event(session, message, "message.updated")
    return message


def add_note(session: Session, ticket: Ticket, actor: User, body: str) -> Message:
    require_writer(actor)
    body = body.strip()
    if not body:
        raise ActionError("a note needs a body")
    now = utcnow()
    note = Message(
        ticket_id=ticket.id,
        workspace_id=ticket.workspace_id,
        direction=str(Direction.NOTE),
        visibility=str(Visibility.PRIVATE),
        author_user_id=actor.id,
        author_name=actor.name or actor.email,
        body=body,
        created_at=now,
        received_at=now,
    )
    session.add(note)
    session.flush()
    record_ticket_change(
        session, ticket, actor, TicketEventKind.NOTE_ADDED, {"message_id": note.id}, at=now
    )
    notify_mentions(session, ticket, actor, note)
    queue_live_event(
        session,
        LiveEvent(
            "message.created", ticket.workspace_id, {"ticket_id": ticket.id, "message_id": note.id}
        ),
    )
    return note


def assign(
    session: Session,
    ticket: Ticket,
    actor: User,
    assignee_id: int | None,
    team_id: int | None = None,
) -> None:
    require_writer(actor)
    if team_id is not None and team_id != ticket.team_id:
        team = session.get(Team, team_id)
        if team is None or team.workspace_id != ticket.workspace_id:
            raise ActionError(f"team {team_id} does not exist in this workspace", 422)
        record_ticket_change(
            session,
            ticket,
            actor,
            TicketEventKind.TEAM_CHANGED,
            {"from": ticket.team_id, "to": team_id},
        )
        ticket.team_id = team_id
    if assignee_id == ticket.assignee_id:
        return
    if assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or not assignee.is_active:
            raise ActionError(f"user {assignee_id} does not exist or is inactive", 422)
        if assignee.role == Role.VIEWER:
            raise ActionError("a viewer cannot be assigned tickets", 422)
    kind = TicketEventKind.ASSIGNED if assignee_id is not None else TicketEventKind.UNASSIGNED
    record_ticket_change(
        session, ticket, actor, kind, {"from": ticket.assignee_id, "to": assignee_id}
    )
    ticket.assignee_id = assignee_id


def set_status(session: Session, ticket: Ticket, actor: User, status: TicketStatus) -> None:
    require_writer(actor)
    if ticket.status == status:
        return
    if status == TicketStatus.NEW:
        raise ActionError("a ticket cannot be set back to new", 422)
    now = utcnow()
    kind = (
        TicketEventKind.REOPENED
        if ticket.status in (TicketStatus.SOLVED, TicketStatus.CLOSED)
        else TicketEventKind.STATUS_CHANGED
    )
    if ticket.status == TicketStatus.CLOSED:
        raise ActionError(
            "a closed ticket is final; the customer's next message opens a new one", 409
        )
    record_ticket_change(
        session, ticket, actor, kind, {"from": ticket.status, "to": str(status)}, at=now
    )
    previous, ticket.status = ticket.status, str(status)
    if status == TicketStatus.SOLVED:
        ticket.solved_at = now
        ticket.needs_reply = False
    elif status == TicketStatus.CLOSED:
        ticket.closed_at = now
    else:
        ticket.solved_at = None
    emit(StatusChanged(session, ticket, actor, previous, str(status), now))


def set_priority(session: Session, ticket: Ticket, actor: User, priority: Priority) -> None:
    require_writer(actor)
    if ticket.priority == priority:
        return
    record_ticket_change(
        session,
        ticket,
        actor,
        TicketEventKind.PRIORITY_CHANGED,
        {"from": ticket.priority, "to": str(priority)},
    )
    previous, ticket.priority = ticket.priority, str(priority)
    emit(PriorityChanged(session, ticket, previous, utcnow()))


def normalize_tags(tags: Iterable[str]) -> list[str]:
    cleaned = sorted({t.strip().lower() for t in tags if t.strip()})
    too_long = [t for t in cleaned if len(t) > MAX_TAG_LENGTH]
    if too_long:
        raise ActionError(f"tags are at most {MAX_TAG_LENGTH} characters: {too_long[0][:20]}…", 422)
    return cleaned


def current_tags(session: Session, ticket_id: int) -> list[str]:
    return sorted(session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket_id)))


def set_tags(session: Session, ticket: Ticket, actor: User, tags: Iterable[str]) -> list[str]:
    require_writer(actor)
    wanted = normalize_tags(tags)
    before = current_tags(session, ticket.id)
    if wanted == before:
        return before
    session.execute(delete(TicketTag).where(TicketTag.ticket_id == ticket.id))
    session.add_all(TicketTag(ticket_id=ticket.id, tag=tag) for tag in wanted)
    record_ticket_change(
        session, ticket, actor, TicketEventKind.TAGS_CHANGED, {"from": before, "to": wanted}
    )
    return wanted
