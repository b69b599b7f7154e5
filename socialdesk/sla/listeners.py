"""How the SLA clocks follow a ticket's replies, status and priority, whoever changed
them (registered in :mod:`socialdesk.wiring.listeners`)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from socialdesk.dispatch import AgentReplied, PriorityChanged, StatusChanged
from socialdesk.sla.store import load_clocks, load_policies, policy_for, save_clocks
from socialdesk.sla.tracker import TicketClocks
from socialdesk.store.models import Ticket, TicketEvent


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


def on_priority_changed(event: PriorityChanged) -> None:
    """The priority changed (agent, API or rule): running clocks take the new targets."""
    update_clocks(
        event.session, event.ticket, lambda tracker: tracker.retarget(event.at, event.previous)
    )


def on_agent_replied(event: AgentReplied) -> None:
    """An agent answered: the response clocks are fulfilled."""
    update_clocks(event.session, event.ticket, lambda tracker: tracker.agent_reply(event.at))


def on_status_changed(event: StatusChanged) -> None:
    """Pending / on hold pause the clocks, open resumes them, solved fulfils them."""
    update_clocks(
        event.session,
        event.ticket,
        lambda tracker: tracker.status_changed(event.previous, event.new, event.at),
    )
