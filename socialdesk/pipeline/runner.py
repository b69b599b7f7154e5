"""Drive the pipeline over many messages: raw event first, then processing, in chunks.

Used by the replay command and the ingest benchmark. A chunk that fails is retried one
message at a time so a single bad row is kept as a failed raw event with its error and
the rest still land.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from socialdesk.domain.enums import RawEventStatus
from socialdesk.domain.messages import InboundMessage
from socialdesk.pipeline.ingest import IngestResult, Pipeline
from socialdesk.pipeline.raw_events import (
    RawDelivery,
    mark_failed,
    mark_processed,
    store_raw_events,
)
from socialdesk.store.db import Database


@dataclass(slots=True)
class RunTotals:
    stored: int = 0
    tickets_created: int = 0
    failed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, result: IngestResult) -> None:
        self.stored += result.stored
        self.tickets_created += len(result.tickets_created)
        for reason, count in result.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + count


def run_with_raw_events(
    db: Database,
    pipeline: Pipeline,
    items: Sequence[tuple[InboundMessage, dict[str, Any]]],
    *,
    source: str,
    chunk_size: int = 1000,
    on_progress: Callable[[int], None] | None = None,
) -> RunTotals:
    """``items`` pairs each message with the raw record it came from."""
    totals = RunTotals()
    for start in range(0, len(items), chunk_size):
        chunk = items[start : start + chunk_size]
        with db.write() as session:
            raw_ids = store_raw_events(
                session.connection(),
                [
                    RawDelivery(
                        source, json.dumps(raw, ensure_ascii=False), {}, message.channel_account_id
                    )
                    for message, raw in chunk
                ],
            )
        messages = [
            replace(m, raw_event_id=raw_id) for (m, _), raw_id in zip(chunk, raw_ids, strict=True)
        ]
        try:
            with db.write() as session:
                conn = session.connection()
                totals.add(pipeline.ingest(conn, messages))
                mark_processed(conn, raw_ids)
        except Exception:
            _one_by_one(db, pipeline, messages, totals)
        if on_progress:
            on_progress(len(chunk))
    return totals


def _one_by_one(
    db: Database, pipeline: Pipeline, messages: list[InboundMessage], totals: RunTotals
) -> None:
    for message in messages:
        assert message.raw_event_id is not None
        try:
            with db.write() as session:
                conn = session.connection()
                totals.add(pipeline.ingest(conn, [message]))
                mark_processed(conn, [message.raw_event_id])
        except Exception as exc:
            totals.failed += 1
            reason = f"{type(exc).__name__}: {exc}"
            totals.errors.append(reason)
            with db.write() as session:
                mark_failed(session.connection(), message.raw_event_id, reason)


__all__ = ["RawEventStatus", "RunTotals", "run_with_raw_events"]
