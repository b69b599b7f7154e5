"""The SLA pipeline step: clocks for the tickets a batch touched, from the batch's events."""

from __future__ import annotations

from sqlalchemy import Connection

from socialdesk.domain.enums import TicketEventKind, TicketStatus
from socialdesk.pipeline.ingest import BatchContext
from socialdesk.pipeline.ticket_state import PendingEvent, TicketState
from socialdesk.sla.clocks import Clock
from socialdesk.sla.store import load_clocks, load_policies, policy_for, save_clocks
from socialdesk.sla.tracker import TicketClocks


def feed_events(tracker: TicketClocks, ticket: TicketState, events: list[PendingEvent]) -> None:
    """Translate the ticket events of one batch (in order) into clock changes."""
    answered_before = ticket.first_response_at is not None
    for event in events:
        kind, at, data = event.kind, event.created_at, event.data
        if kind == TicketEventKind.CREATED:
            tracker.created(at)
        elif kind == TicketEventKind.MESSAGE_RECEIVED and not (
            data.get("csat_answer") or data.get("acknowledgement")
        ):
            tracker.customer_message(at, answered_before=answered_before)
        elif kind == TicketEventKind.REPLIED:
            tracker.agent_reply(at)
            answered_before = True
        elif kind == TicketEventKind.STATUS_CHANGED:
            tracker.status_changed(str(data.get("from")), str(data.get("to")), at)
        elif kind == TicketEventKind.PRIORITY_CHANGED:
            # A rule changed the priority; the tracker already carries the new one.
            tracker.retarget(at, data.get("from"))
        elif kind == TicketEventKind.REOPENED:
            tracker.status_changed(str(data.get("from")), str(TicketStatus.OPEN), at)


class SlaStep:
    """Sets due times on new tickets and on customer messages, records clock events."""

    name = "sla"

    def apply(self, conn: Connection, batch: BatchContext) -> None:
        tickets = [t for t in batch.tickets if t.id is not None and t.events]
        if not tickets:
            return
        policies = load_policies(conn, {t.workspace_id for t in tickets})
        if not any(policies.values()):
            return
        clocks = load_clocks(conn, [t.id for t in tickets if t.id is not None])
        owned: list[tuple[int, int, Clock]] = []
        for ticket in tickets:
            assert ticket.id is not None
            policy = policy_for(
                policies.get(ticket.workspace_id, []), ticket.sla_policy_id, ticket.platform
            )
            if policy is None:
                continue
            tracker = TicketClocks(
                policy, ticket.platform, ticket.priority, clocks.get(ticket.id, [])
            )
            feed_events(tracker, ticket, list(ticket.events))
            for note in tracker.notes:
                ticket.events.append(PendingEvent(note.kind, note.at, "sla", note.data))
            tracker.apply_to(ticket)
            owned.extend((ticket.id, ticket.workspace_id, c) for c in tracker.clocks)
        save_clocks(conn, owned)
