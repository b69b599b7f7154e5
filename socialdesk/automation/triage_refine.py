"""The encoder pass in the background: refine the inline triage of stored messages.

The inline step (pipeline/triage_step.py) marks each message it labels
``triage_pending``; this worker claims a batch of them (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, then a short claim time, so several worker processes never embed one message
twice), embeds them with multilingual-e5-small (``triage.encoder``), and where the
encoder disagrees on sentiment or topic it updates the message and, for the ticket's
latest customer message, the ticket, recording a ``triage_refined`` event (and its live
update). Labels an agent set by hand (``tickets.triage_manual``) are never touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, or_, select, update

from socialdesk.actions.recording import record_ticket_change
from socialdesk.background import BackgroundWorker
from socialdesk.domain.enums import Direction, TicketEventKind
from socialdesk.observability.metrics import triage_refined
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import Message, Ticket, Workspace
from socialdesk.triage import DEFAULT_TOPICS
from socialdesk.triage.encoder import Refinement, embed, refine
from socialdesk.triage.topics import topics_of

CLAIM_FOR = timedelta(minutes=5)
BATCH = 32


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    ticket_id: int
    body: str
    created_at: datetime


def pending_count(db: Database) -> int:
    with db.session() as s:
        return int(
            s.scalar(
                select(func.count()).select_from(Message).where(Message.triage_pending.is_(True))
            )
            or 0
        )


class TriageRefineWorker(BackgroundWorker):
    name = "triage-encoder"
    interval = 2.0

    def __init__(
        self, db: Database, batch: int = BATCH, clock: Callable[[], datetime] = utcnow
    ) -> None:
        super().__init__()
        self.db, self.batch, self.clock = db, batch, clock

    def claim(self, limit: int) -> list[_Claimed]:
        now = self.clock()
        m = Message
        with self.db.write() as s:
            rows = s.execute(
                select(m.id, m.ticket_id, m.body, m.created_at)
                .where(
                    m.triage_pending.is_(True),
                    or_(m.triage_claimed_until.is_(None), m.triage_claimed_until < now),
                )
                .order_by(m.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            if rows:
                s.execute(
                    update(m)
                    .where(m.id.in_([row.id for row in rows]))
                    .values(triage_claimed_until=now + CLAIM_FOR)
                )
        return [_Claimed(row.id, row.ticket_id, row.body, row.created_at) for row in rows]

    def run_once(self, limit: int | None = None) -> int:
        """One batch; the number of messages refined."""
        claimed = self.claim(limit or self.batch)
        if not claimed:
            return 0
        started = time.perf_counter()
        embeddings = embed([c.body for c in claimed])
        refinements = self._refine(claimed, embeddings)
        with self.db.write() as s:
            for item, refinement, vector in zip(claimed, refinements, embeddings, strict=True):
                self._apply(s, item, refinement, vector)
        triage_refined(len(claimed), time.perf_counter() - started)
        return len(claimed)

    def _refine(self, claimed: list[_Claimed], embeddings: np.ndarray) -> list[Refinement]:
        """Each message against its own workspace's topic list."""
        with self.db.session() as s:
            workspace_of = {
                ticket_id: ws_id
                for ticket_id, ws_id in s.execute(
                    select(Ticket.id, Ticket.workspace_id).where(
                        Ticket.id.in_({c.ticket_id for c in claimed})
                    )
                )
            }
            topics = {
                ws_id: topics_of(settings)
                for ws_id, settings in s.execute(
                    select(Workspace.id, Workspace.settings).where(
                        Workspace.id.in_(set(workspace_of.values()))
                    )
                )
            }
        found: list[Refinement | None] = [None] * len(claimed)
        groups: dict[int | None, list[int]] = {}
        for index, item in enumerate(claimed):
            groups.setdefault(workspace_of.get(item.ticket_id), []).append(index)
        for ws_id, indexes in groups.items():
            chosen = topics.get(ws_id, DEFAULT_TOPICS) if ws_id is not None else DEFAULT_TOPICS
            results = refine([claimed[i].body for i in indexes], chosen, embeddings[indexes])
            for i, result in zip(indexes, results, strict=True):
                found[i] = result
        return [r for r in found if r is not None]

    def _apply(self, s: Any, item: _Claimed, refinement: Refinement, vector: np.ndarray) -> None:
        message = s.get(Message, item.id)
        if message is None:
            return
        message.triage_pending = None
        message.triage_claimed_until = None
        message.embedding = vector.astype(np.float16).tobytes()
        before = dict(message.triage or {})
        changed: dict[str, Any] = {}
        if before.get("sentiment") != refinement.sentiment_label:
            changed["sentiment"] = refinement.sentiment_label
            changed["sentiment_score"] = refinement.sentiment_score
        if refinement.topic is not None and before.get("topic") != refinement.topic:
            changed["topic"] = refinement.topic
        message.triage = {**before, **changed, "refined": True}
        if not changed:
            return
        ticket = s.get(Ticket, item.ticket_id)
        if ticket is None or not self._is_latest(s, item):
            return
        manual = ticket.triage_manual or {}
        columns = {"sentiment": "sentiment_label", "sentiment_score": "sentiment", "topic": "topic"}
        to_ticket = {
            key: value
            for key, value in changed.items()
            if columns[key] not in manual
            and not (key == "sentiment_score" and "sentiment_label" in manual)
        }
        if not to_ticket:
            return
        previous = {key: getattr(ticket, columns[key]) for key in to_ticket}
        for key, value in to_ticket.items():
            setattr(ticket, columns[key], value)
        record_ticket_change(
            s,
            ticket,
            None,
            TicketEventKind.TRIAGE_REFINED,
            {"message_id": item.id, "from": previous, "to": to_ticket, "by": "encoder"},
        )

    @staticmethod
    def _is_latest(s: Any, item: _Claimed) -> bool:
        later = s.scalar(
            select(Message.id)
            .where(
                Message.ticket_id == item.ticket_id,
                Message.direction == str(Direction.INBOUND),
                or_(
                    Message.created_at > item.created_at,
                    (Message.created_at == item.created_at) & (Message.id > item.id),
                ),
            )
            .limit(1)
        )
        return later is None

    def drain(self, on_progress: Callable[[int], None] | None = None) -> int:
        """Refine everything pending (replay, the bench); the number refined."""
        total = 0
        while done := self.run_once():
            total += done
            if on_progress:
                on_progress(done)
        return total

    def run_pass(self) -> bool:
        return self.run_once() >= self.batch
