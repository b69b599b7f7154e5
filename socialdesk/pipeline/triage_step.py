"""The inline triage step: every inbound customer message labelled as it is stored.

Runs first among the steps (wiring/pipeline.py) so automation rules and routing see the
ticket's intent, sentiment, urgency, language and topic. The labels of each message go to
``messages.triage``; the ticket takes those of its latest customer message, except any
label an agent set by hand (``tickets.triage_manual``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from socialdesk.domain.enums import Direction
from socialdesk.pipeline.ingest import BatchContext, PlacedMessage
from socialdesk.pipeline.ticket_state import TicketState
from socialdesk.store.models import Message, Workspace
from socialdesk.store.models.base import table_of
from socialdesk.triage import Context, Triage, triage
from socialdesk.triage.topics import topics_of

_messages = table_of(Message)
_workspaces = table_of(Workspace)

# Ticket column ← Triage attribute; a manual label names the ticket column.
TICKET_FIELDS = {
    "sentiment_label": "sentiment",
    "sentiment": "sentiment_score",
    "intent": "intent",
    "urgency": "urgency",
    "language": "language",
    "topic": "topic",
}


def message_triage(result: Triage) -> dict[str, Any]:
    """What ``messages.triage`` stores and the API shows."""
    return {
        "sentiment": result.sentiment,
        "sentiment_score": result.sentiment_score,
        "intent": result.intent,
        "urgency": result.urgency,
        "signals": result.signals_data(),
        "language": result.language,
        "topic": result.topic,
    }


def _context(
    p: PlacedMessage, earlier_on_ticket: int, topics: Mapping[str, Sequence[str]]
) -> Context:
    created_at = p.source.created_at
    awaiting_since = p.ticket.awaiting_since
    waiting = (
        (created_at - awaiting_since).total_seconds() / 60
        if awaiting_since is not None and awaiting_since < created_at
        else None
    )
    # Unanswered customer messages before this one: those earlier in the batch, or at
    # least one when the ticket was already waiting for us before this post.
    previous = max(earlier_on_ticket, 1 if waiting else 0)
    return Context(
        followers=p.source.author.follower_count,
        previous_customer_messages=previous,
        waiting_minutes=waiting,
        topics=topics,
    )


def apply_to_ticket(ticket: TicketState, result: Triage) -> None:
    manual = ticket.triage_manual or {}
    for column, attribute in TICKET_FIELDS.items():
        if column in manual:
            continue
        setattr(ticket, column, getattr(result, attribute))
    ticket.dirty = True


class TriageStep:
    name = "triage"

    def apply(self, conn: Connection, batch: BatchContext) -> None:
        inbound = [
            p
            for p in batch.placed
            if p.id is not None and p.source.direction == Direction.INBOUND and p.source.body
        ]
        if not inbound:
            return
        inbound.sort(key=lambda p: p.source.created_at)
        # Each workspace's own topic list (one small read per batch).
        topics = {
            workspace_id: topics_of(settings)
            for workspace_id, settings in conn.execute(
                select(_workspaces.c.id, _workspaces.c.settings).where(
                    _workspaces.c.id.in_({p.ticket.workspace_id for p in inbound})
                )
            )
        }
        seen_on_ticket: dict[int, int] = defaultdict(int)
        latest: dict[int, tuple[TicketState, Triage]] = {}
        rows = []
        for p in inbound:
            key = id(p.ticket)
            context = _context(p, seen_on_ticket[key], topics.get(p.ticket.workspace_id, {}))
            result = triage(p.source.body, context)
            seen_on_ticket[key] += 1
            if p.ticket.contact_id is None or p.contact_id == p.ticket.contact_id:
                # The ticket carries its customer's values: another customer's reply in a
                # public thread (a fan answering, docs/triage.md) is labelled, not adopted.
                latest[key] = (p.ticket, result)
            rows.append({"b_id": p.id, "triage": message_triage(result)})
        conn.execute(
            update(_messages)
            .where(_messages.c.id == bindparam("b_id"))
            # The background encoder pass (automation/triage_refine.py) picks these up.
            .values(triage=bindparam("triage"), triage_pending=True),
            rows,
        )
        for ticket, result in latest.values():
            apply_to_ticket(ticket, result)
