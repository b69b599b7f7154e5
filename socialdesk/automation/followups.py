"""Follow-through: promised follow-ups scheduled from agent replies, and what happens
when one falls due unkept (run by the periodic SLA scan, ``run_sla_cycle``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.recording import record_ticket_change
from socialdesk.automation.promises import detect_promise
from socialdesk.config import get_settings
from socialdesk.domain.enums import TicketEventKind, TicketStatus
from socialdesk.notify.outbox import SUBJECT_LIMIT, enqueue_email, ticket_url
from socialdesk.sla.listeners import update_clocks
from socialdesk.sla.tracker import TicketClocks
from socialdesk.store.models import FollowUp, Message, Notification, Ticket, User


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


# Statuses a kept-waiting customer is taken out of: the ticket goes back to open.
_BACK_TO_OPEN = frozenset(
    str(s) for s in (TicketStatus.PENDING, TicketStatus.ON_HOLD, TicketStatus.SOLVED)
)
_BATCH = 200


def promise_fell_due(session: Session, follow_up: FollowUp, now: datetime) -> bool:
    """An agent's promise passed its due time unkept: the customer is waiting on us.

    The ticket goes back to the queue as needing a reply (open, response clock started
    at the due time, paused clocks resumed), a ``follow_up_due`` event records it and the
    promiser gets an in-app notification and an e-mail. Marked once (``overdue_at``), so a
    second scan, or two at once after a crash, does it once. False when the ticket is
    closed (final: the promise can no longer be kept there, so it is cancelled)."""
    follow_up.overdue_at = now
    ticket = session.get(Ticket, follow_up.ticket_id)
    if ticket is None or ticket.status == TicketStatus.CLOSED:
        follow_up.status = "cancelled"  # nobody can keep it there: off every list
        follow_up.done_at = now
        return False
    previous = ticket.status
    data = {
        "follow_up_id": follow_up.id,
        "phrase": follow_up.phrase,
        "due_at": follow_up.due_at.isoformat(),
        "user_id": follow_up.user_id,
    }
    if previous in _BACK_TO_OPEN:
        kind = TicketEventKind.REOPENED if previous == TicketStatus.SOLVED else None
        record_ticket_change(
            session,
            ticket,
            None,
            kind or TicketEventKind.STATUS_CHANGED,
            {"from": previous, "to": str(TicketStatus.OPEN), "reason": "follow_up_due"},
            at=now,
        )
        ticket.status = str(TicketStatus.OPEN)
        ticket.solved_at = None
    if not ticket.needs_reply or ticket.awaiting_since is None:
        ticket.awaiting_since = follow_up.due_at
    ticket.needs_reply = True
    record_ticket_change(session, ticket, None, TicketEventKind.FOLLOW_UP_DUE, data, at=now)

    def resume(tracker: TicketClocks) -> None:
        tracker.status_changed(previous, ticket.status, now)
        tracker.customer_message(follow_up.due_at, answered_before=True)

    update_clocks(session, ticket, resume)
    _notify_promiser(session, ticket, follow_up, now)
    return True


def _notify_promiser(session: Session, ticket: Ticket, follow_up: FollowUp, now: datetime) -> None:
    promiser = session.get(User, follow_up.user_id) if follow_up.user_id else None
    if promiser is None or not promiser.is_active:
        return
    due = follow_up.due_at.strftime("%Y-%m-%d %H:%M UTC")
    text = f'You promised "{follow_up.phrase}" (due {due}); the customer is still waiting.'
    notification = Notification(
        workspace_id=ticket.workspace_id,
        user_id=promiser.id,
        ticket_id=ticket.id,
        kind="follow_up_due",
        body=text,
        data={"follow_up_id": follow_up.id, "due_at": follow_up.due_at.isoformat()},
        created_at=now,
    )
    session.add(notification)
    session.flush()
    settings = get_settings()
    about = " ".join((ticket.subject or "").split()) or f"ticket #{ticket.id}"
    enqueue_email(
        session.connection(),
        workspace_id=ticket.workspace_id,
        recipients=[promiser.email],
        subject=f"[socialdesk] Promise due: #{ticket.id} {about}"[:SUBJECT_LIMIT],
        body=f"{text}\n\nTicket #{ticket.id}: {about}\n"
        f"{ticket_url(settings.public_url, ticket.id)}\n",
        now=now,
        ticket_id=ticket.id,
        notification_id=notification.id,
        smtp_configured=bool(settings.smtp_host),
    )


def run_due_promises(session: Session, now: datetime) -> int:
    """Every open promise past its due time and not yet handled; how many reopened."""
    done = 0
    while True:
        due = list(
            session.scalars(
                select(FollowUp)
                .where(
                    FollowUp.status == "open",
                    FollowUp.due_at <= now,
                    FollowUp.overdue_at.is_(None),
                )
                .order_by(FollowUp.due_at, FollowUp.id)
                .limit(_BATCH)
            )
        )
        for follow_up in due:
            done += promise_fell_due(session, follow_up, now)
        session.flush()
        if len(due) < _BATCH:
            return done
