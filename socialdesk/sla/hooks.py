"""What an agent's reply or status change does beyond the ticket itself: SLA clocks,
promised follow-ups and automation rules. Called from ``actions/tickets.py``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from socialdesk.domain.enums import TicketStatus
from socialdesk.sla.store import load_clocks, load_policies, policy_for, save_clocks
from socialdesk.sla.tracker import TicketClocks
from socialdesk.store.models import Message, Ticket, TicketEvent, User


def update_clocks(session: Session, ticket: Ticket, change: Callable[[TicketClocks], None]) -> None:
    conn = session.connection()
    policies = load_policies(conn, [ticket.workspace_id]).get(ticket.workspace_id, [])
    policy = policy_for(policies, ticket.sla_policy_id, ticket.platform)
    if policy is None:
        return
    clocks = load_clocks(conn, [ticket.id]).get(ticket.id, [])
    tracker = TicketClocks(policy, ticket.platform, ticket.priority, clocks)
    change(tracker)
    save_clocks(conn, ((ticket.id, ticket.workspace_id, c) for c in tracker.clocks))
    for note in tracker.notes:
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                workspace_id=ticket.workspace_id,
                kind=str(note.kind),
                actor="sla",
                data=note.data,
                created_at=note.at,
            )
        )
    tracker.apply_to(ticket)


def after_priority_change(session: Session, ticket: Ticket, previous: str, at: datetime) -> None:
    """The priority changed (agent, API or rule): running clocks take the new targets."""
    update_clocks(session, ticket, lambda tracker: tracker.retarget(at, previous))


def after_reply(
    session: Session, ticket: Ticket, actor: User | None, message: Message, at: datetime
) -> None:
    """An agent answered: response clocks are fulfilled, promises become follow-ups."""
    update_clocks(session, ticket, lambda tracker: tracker.agent_reply(at))
    from socialdesk.automation.followups import schedule_promised_follow_up
    from socialdesk.automation.step import run_for_ticket

    schedule_promised_follow_up(session, ticket, actor, message, at)
    run_for_ticket(
        session,
        ticket,
        "agent_reply",
        at,
        {"text": message.body, "own_post": True, "visibility": message.visibility},
    )


def after_status_change(
    session: Session, ticket: Ticket, actor: User | None, old: str, new: str, at: datetime
) -> None:
    """Pending / on hold pause the clocks, open resumes them, solved fulfils them; an
    agent solving the ticket may ask "Does it work now?" (``ask_after_solve``)."""
    from socialdesk.automation.check_in import ask_after_solve
    from socialdesk.automation.step import run_for_ticket

    update_clocks(session, ticket, lambda tracker: tracker.status_changed(old, new, at))
    if new == TicketStatus.SOLVED and actor is not None:
        ask_after_solve(session, ticket, at)
    run_for_ticket(session, ticket, "status_change", at, {"previous_status": old})
