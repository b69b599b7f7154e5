"""Raw inbound events: stored first, processed after, kept with their error on failure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, update

from socialdesk.domain.enums import RawEventStatus
from socialdesk.pipeline.identities import chunks
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import RawEvent
from socialdesk.store.models.base import table_of

_raw = table_of(RawEvent)


@dataclass(frozen=True, slots=True)
class RawDelivery:
    source: str
    body: str
    headers: dict[str, Any] = field(default_factory=dict)
    channel_account_id: int | None = None


def store_raw_events(conn: Connection, deliveries: Sequence[RawDelivery]) -> list[int]:
    if not deliveries:
        return []
    now = utcnow()
    rows = [
        {
            "source": d.source,
            "channel_account_id": d.channel_account_id,
            "received_at": now,
            "headers": d.headers,
            "body": d.body,
            "status": str(RawEventStatus.PENDING),
            "attempts": 0,
        }
        for d in deliveries
    ]
    return insert_with_ids(conn, _raw, rows)


def mark_processed(
    conn: Connection, ids: Sequence[int], status: RawEventStatus = RawEventStatus.PROCESSED
) -> None:
    if not ids:
        return
    now = utcnow()
    for part in chunks(list(ids)):
        conn.execute(
            update(_raw)
            .where(_raw.c.id.in_(part))
            .values(status=str(status), processed_at=now, attempts=_raw.c.attempts + 1, error=None)
        )


def mark_failed(conn: Connection, raw_id: int, error: str) -> None:
    conn.execute(
        update(_raw)
        .where(_raw.c.id == raw_id)
        .values(
            status=str(RawEventStatus.FAILED),
            error=error[:4000],
            attempts=_raw.c.attempts + 1,
            processed_at=utcnow(),
        )
    )


def drain_inbox(db: Database, limit: int = 500) -> int:
    """Move the oldest deliveries waiting in the SQLite inbox spool into ``raw_events``.

    Moved first, forgotten after: a crash in between leaves them in the spool, and the
    next drain finds their ``inbox_id`` taken and only forgets them. Returns how many
    deliveries it took from the spool (0 when there is no spool or nothing waits).
    """
    spool = db.inbox_spool
    if spool is None:
        return 0
    waiting = spool.oldest(limit)
    if not waiting:
        return 0
    with db.write() as session:
        conn = session.connection()
        ids = [d.id for d in waiting]
        moved = set(conn.scalars(select(_raw.c.inbox_id).where(_raw.c.inbox_id.in_(ids))))
        rows = [
            {
                "source": d.source,
                "channel_account_id": d.channel_account_id,
                "received_at": d.received_at,
                "headers": d.headers,
                "body": d.body,
                "status": str(RawEventStatus.PENDING),
                "attempts": 0,
                "inbox_id": d.id,
            }
            for d in waiting
            if d.id not in moved
        ]
        if rows:
            conn.execute(insert(_raw), rows)
    spool.forget(ids)
    return len(waiting)
