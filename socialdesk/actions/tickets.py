"""Agent actions on a ticket: reply, note, assign, status, priority, tags."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from socialdesk.actions.mentions import notify_mentions
from socialdesk.actions.recording import ActionError, record_ticket_change
from socialdesk.delivery.outbox import enqueue
from socialdesk.domain.enums import (
    DeliveryState,
    Direction,
    Priority,
    Role,
    TicketEventKind,
    TicketStatus,
    Visibility,
)
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.sla import hooks as sla_hooks
from socialdesk.store.db import utcnow
from socialdesk.store.models import Message, Team, Ticket, TicketTag, User

WRITE_ROLES = frozenset({Role.ADMIN, Role.LEAD, Role.AGENT, Role.MARKETING})
MAX_TAG_LENGTH = 80


def require_writer(actor: User) -> None:
    if actor.role not in WRITE_ROLES:
        raise ActionError("your role can read tickets but not change them", 403)


def reply(
    session: Session,
    ticket: Ticket,
    actor: User,
    body: str,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    status_after: TicketStatus | None = TicketStatus.PENDING,
    client_key: str | None = None,
) -> Message:
    """Store an agent's reply as an outbound message queued for delivery."""
    require_writer(actor)
    body = body.strip()
    if not body:
        raise ActionError("a reply needs a body")
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
    message = Message(
        ticket_id=ticket.id,
        workspace_id=ticket.workspace_id,
        channel_account_id=ticket.channel_account_id,
        platform=ticket.platform,
        direction=str(Direction.OUTBOUND),
        visibility=str(visibility),
        author_user_id=actor.id,
        author_name=actor.name or actor.email,
        body=body,
        created_at=now,
        received_at=now,
        delivery_state=str(DeliveryState.QUEUED),
        meta={"client_key": client_key} if client_key else {},
    )
    session.add(message)
    session.flush()
    if message.channel_account_id is not None:
        enqueue(session, message)
    else:
        message.delivery_state = str(DeliveryState.FAILED)
        message.delivery_error = "this ticket has no channel account to reply through"
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
            "visibility": str(visibility),
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
    sla_hooks.after_reply(session, ticket, actor, message, now)
    if status_after is not None:
        set_status(session, ticket, actor, status_after)
    queue_live_event(
        session,
        LiveEvent(
            "message.created",
            ticket.workspace_id,
            {"ticket_id": ticket.id, "message_id": message.id},
        ),
    )
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
    sla_hooks.after_status_change(session, ticket, actor, previous, str(status), now)


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
    sla_hooks.after_priority_change(session, ticket, previous, utcnow())


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
