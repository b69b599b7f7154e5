"""Peer answers found as posts arrive: a fan's public reply that answers the customer.

A reply counts when it is public, replies to a message of the ticket's own customer,
is written by someone else (not the customer, and inbound: never the brand's account,
whose posts arrive as outbound), the customer's message asks something, and the pure
judgement (``triage/peer_answers.py``) reads the reply as an answer. Each one is
recorded once per message with its ticket event, an audit entry and a live event, in
the batch's transaction (docs/triage.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from socialdesk.domain.enums import Direction, TicketEventKind, Visibility
from socialdesk.live import LiveEvent, write_live_events
from socialdesk.pipeline.identities import chunks
from socialdesk.pipeline.ingest import BatchContext, PlacedMessage
from socialdesk.pipeline.ticket_state import PendingEvent
from socialdesk.store.db import utcnow
from socialdesk.store.models import AuditEntry, Message, PeerAnswer
from socialdesk.store.models.base import table_of
from socialdesk.triage import triage
from socialdesk.triage.peer_answers import asks, judge

_messages = table_of(Message)
_peer_answers = table_of(PeerAnswer)
_audit = table_of(AuditEntry)


@dataclass(frozen=True, slots=True)
class Parent:
    id: int
    ticket_id: int | None
    author_contact_id: int | None
    direction: str
    body: str
    intent: str | None


def _candidates(batch: BatchContext) -> list[PlacedMessage]:
    return [
        p
        for p in batch.placed
        if p.id is not None
        and p.ticket.id is not None
        and p.source.direction == Direction.INBOUND
        and p.source.visibility == Visibility.PUBLIC
        and p.source.reply_to_id
        and p.source.body
        and p.contact_id is not None
        and p.ticket.contact_id is not None
        and p.contact_id != p.ticket.contact_id
    ]


def _parents(
    conn: Connection, batch: BatchContext, wanted: list[PlacedMessage]
) -> dict[tuple[int, str], Parent]:
    """The posts the candidates reply to: the batch's own first, then one query."""
    out: dict[tuple[int, str], Parent] = {}
    for p in batch.placed:
        if p.id is not None:
            out[(p.source.channel_account_id, p.source.platform_message_id)] = Parent(
                p.id, p.ticket.id, p.contact_id, str(p.source.direction), p.source.body, None
            )
    missing = {
        (p.source.channel_account_id, str(p.source.reply_to_id))
        for p in wanted
        if (p.source.channel_account_id, str(p.source.reply_to_id)) not in out
    }
    accounts = {account for account, _ in missing}
    for part in chunks(sorted({ref for _, ref in missing})):
        rows = conn.execute(
            select(
                _messages.c.id,
                _messages.c.channel_account_id,
                _messages.c.platform_message_id,
                _messages.c.ticket_id,
                _messages.c.author_contact_id,
                _messages.c.direction,
                _messages.c.body,
                _messages.c.triage,
            ).where(_messages.c.platform_message_id.in_(part))
        )
        for r in rows:
            if r.channel_account_id in accounts:
                intent = (r.triage or {}).get("intent")
                out[(r.channel_account_id, r.platform_message_id)] = Parent(
                    r.id, r.ticket_id, r.author_contact_id, r.direction, r.body or "", intent
                )
    return out


def fan_handle(p: PlacedMessage) -> str:
    author = p.source.author
    return (author.handle or author.display_name or author.external_user_id)[:255]


class PeerAnswerStep:
    name = "peer_answers"

    def apply(self, conn: Connection, batch: BatchContext) -> None:
        wanted = _candidates(batch)
        if not wanted:
            return
        parents = _parents(conn, batch, wanted)
        now = utcnow()
        rows: list[dict[str, Any]] = []
        live: list[LiveEvent] = []
        audits: list[dict[str, Any]] = []
        for p in wanted:
            parent = parents.get((p.source.channel_account_id, str(p.source.reply_to_id)))
            if (
                parent is None
                or parent.ticket_id != p.ticket.id
                or parent.direction != str(Direction.INBOUND)
                or parent.author_contact_id != p.ticket.contact_id
            ):
                continue
            question_intent = parent.intent or triage(parent.body).intent
            if not asks(parent.body, question_intent):
                continue
            verdict = judge(parent.body, p.source.body, triage(p.source.body).intent)
            if not verdict.is_answer:
                continue
            handle = fan_handle(p)
            data = {
                "message": p.id,
                "question": parent.id,
                "fan": handle,
                "score": verdict.score,
                "reasons": list(verdict.reasons),
            }
            rows.append(
                {
                    "workspace_id": p.workspace_id,
                    "ticket_id": p.ticket.id,
                    "message_id": p.id,
                    "question_message_id": parent.id,
                    "fan_contact_id": p.contact_id,
                    "fan_handle": handle,
                    "score": verdict.score,
                    "detected_at": now,
                }
            )
            p.ticket.events.append(
                PendingEvent(TicketEventKind.PEER_ANSWERED, p.source.created_at, "pipeline", data)
            )
            p.ticket.dirty = True
            audits.append(
                {
                    "workspace_id": p.workspace_id,
                    "actor_user_id": None,
                    "action": f"ticket.{TicketEventKind.PEER_ANSWERED}",
                    "object_type": "ticket",
                    "object_id": p.ticket.id,
                    "data": data,
                    "created_at": now,
                }
            )
            live.append(
                LiveEvent(
                    "ticket.updated",
                    p.workspace_id,
                    {"ticket_id": p.ticket.id, "change": str(TicketEventKind.PEER_ANSWERED)},
                )
            )
        if rows:
            conn.execute(insert(_peer_answers), rows)
            conn.execute(insert(_audit), audits)
            write_live_events(conn, live)
