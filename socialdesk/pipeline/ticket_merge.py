"""Threads whose posts arrive out of order end as if they had arrived in order.

Two things go wrong when a network delivers a thread's posts out of order. A post
whose parent is not stored yet opens a ticket of its own; when the parent's branch
arrives, the thread is split over two tickets. And a post older than the newest one
on its ticket cannot tell by itself who is waiting on whom (a "thanks!" that overtook
our answer, an answer that overtook the question).

The pipeline therefore merges the early ticket into the one that holds the thread
as soon as a post links them, and refolds a ticket's message-derived state from its
whole history, oldest first, whenever a post arrives out of order. ``refold`` is pure;
``load_history`` and ``move_rows`` are the two statements around it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Table, and_, delete, insert, literal, select, update

from socialdesk.domain.enums import Direction, TicketEventKind, TicketStatus
from socialdesk.pipeline.identities import chunks
from socialdesk.pipeline.ticket_state import PendingEvent, TicketState, apply_message
from socialdesk.store.models import Message, Ticket, TicketTag
from socialdesk.store.models.base import table_of

_messages = table_of(Message)
_tickets = table_of(Ticket)
_tags = table_of(TicketTag)

# Per-ticket state the surviving ticket keeps its own of: the merged ticket's rows go
# with it (its SLA clocks are recomputed for the survivor by the SLA step).
_DROPPED_WITH_MERGED = frozenset({"ticket_presence", "sla_clocks"})

# The waiting state follows the messages only while no agent decided otherwise.
_MESSAGE_DRIVEN = frozenset({TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING})


@dataclass(frozen=True, slots=True)
class HistoryItem:
    direction: Direction
    created_at: datetime
    body: str


def load_history(conn: Connection, ticket_ids: Iterable[int]) -> dict[int, list[HistoryItem]]:
    """The stored messages of these tickets, one query per chunk."""
    history: dict[int, list[HistoryItem]] = {}
    for part in chunks(sorted(set(ticket_ids))):
        rows = conn.execute(
            select(
                _messages.c.ticket_id,
                _messages.c.direction,
                _messages.c.created_at,
                _messages.c.body,
            ).where(_messages.c.ticket_id.in_(part))
        )
        for r in rows:
            history.setdefault(r.ticket_id, []).append(
                HistoryItem(Direction(r.direction), r.created_at, r.body or "")
            )
    return history


def refold(ticket: TicketState, items: list[HistoryItem]) -> None:
    """Recompute the message-derived fields of ``ticket`` from all its messages in
    the order they were written, as if they had arrived that way.

    The ticket's events are history and stay; a status the messages now decide
    differently is recorded as one more status change."""
    if not items:
        return
    ordered = sorted(items, key=lambda item: item.created_at)
    replay = TicketState(
        id=ticket.id,
        workspace_id=ticket.workspace_id,
        channel_account_id=ticket.channel_account_id,
        platform=ticket.platform,
        first_message_at=ordered[0].created_at,
        last_message_at=ordered[0].created_at,
    )
    for item in ordered:
        apply_message(
            replay,
            direction=item.direction,
            created_at=item.created_at,
            body=item.body,
            message_ref="",
        )
    ticket.dirty = True
    ticket.message_count = replay.message_count
    ticket.first_message_at = replay.first_message_at
    ticket.last_message_at = replay.last_message_at
    ticket.last_inbound_at = replay.last_inbound_at
    ticket.last_outbound_at = replay.last_outbound_at
    ticket.first_response_at = replay.first_response_at
    if ticket.status not in _MESSAGE_DRIVEN:
        return
    ticket.needs_reply = replay.needs_reply
    ticket.awaiting_since = replay.awaiting_since
    if replay.status != ticket.status:
        ticket.events.append(
            PendingEvent(
                TicketEventKind.STATUS_CHANGED,
                ordered[-1].created_at,
                "pipeline",
                {"from": ticket.status, "to": str(replay.status), "reason": "out_of_order"},
            )
        )
        ticket.status = replay.status


def move_rows(conn: Connection, from_id: int, into_id: int) -> None:
    """Everything that points at ticket ``from_id`` now points at ``into_id``; then
    ``from_id`` is deleted. Tables are found from the schema, so a table added later
    moves with the rest without being listed here."""
    survivor_tags = select(_tags.c.tag).where(_tags.c.ticket_id == into_id)
    conn.execute(
        insert(_tags).from_select(
            ["ticket_id", "tag"],
            select(literal(into_id, type_=_tickets.c.id.type), _tags.c.tag).where(
                and_(_tags.c.ticket_id == from_id, _tags.c.tag.not_in(survivor_tags))
            ),
        )
    )
    for table, column in _ticket_references(_tickets):
        if table.name == "ticket_tags" or table.name in _DROPPED_WITH_MERGED:
            conn.execute(delete(table).where(table.c[column] == from_id))
        else:
            conn.execute(update(table).where(table.c[column] == from_id).values({column: into_id}))
    conn.execute(delete(_tickets).where(_tickets.c.id == from_id))


def _ticket_references(tickets: Table) -> list[tuple[Table, str]]:
    found: list[tuple[Table, str]] = []
    assert tickets.metadata is not None
    for table in tickets.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is tickets and fk.parent.table is table:
                found.append((table, fk.parent.name))
    return found
