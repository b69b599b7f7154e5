"""Follow-through: promised follow-ups scheduled from agent replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.recording import record_ticket_change
from socialdesk.automation.promises import detect_promise
from socialdesk.domain.enums import TicketEventKind
from socialdesk.store.models import FollowUp, Message, Ticket, User


def schedule_promised_follow_up(
    session: Session, ticket: Ticket, actor: User | None, message: Message, at: datetime
) -> FollowUp | None:
    """A new reply keeps the ticket's open promises; a promise in it schedules a new one."""
    for open_one in session.scalars(
        select(FollowUp).where(FollowUp.ticket_id == ticket.id, FollowUp.status == "open")
    ):
        open_one.status = "done"
        open_one.done_at = at
    promise = detect_promise(message.body)
    if promise is None:
        return None
    follow_up = FollowUp(
        workspace_id=ticket.workspace_id,
        ticket_id=ticket.id,
        user_id=actor.id if actor else ticket.assignee_id,
        message_id=message.id,
        phrase=promise.phrase,
        due_at=at + promise.due_in,
        status="open",
        created_at=at,
    )
    session.add(follow_up)
    session.flush()
    record_ticket_change(
        session,
        ticket,
        actor,
        TicketEventKind.FOLLOW_UP_SCHEDULED,
        {
            "follow_up_id": follow_up.id,
            "phrase": promise.phrase,
            "hint": promise.hint,
            "due_at": follow_up.due_at.isoformat(),
        },
        at=at,
    )
    return follow_up
