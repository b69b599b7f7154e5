"""Raw inbound events: stored first, processed after, kept with their error on failure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from socialdesk.channels.base import RejectedEvent
from socialdesk.domain.enums import RawEventStatus
from socialdesk.pipeline.identities import chunks
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.db import Database, utcnow
from socialdesk.store.inbox_spool import InboxSpool, SpooledDelivery
from socialdesk.store.models import RawEvent
from socialdesk.store.models.base import table_of
from socialdesk.store.transient import backoff

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
            .values(
                status=str(status),
                processed_at=now,
                attempts=_raw.c.attempts + 1,
                error=None,
                next_attempt_at=None,
            )
        )


def mark_ignored(conn: Connection, reasons: dict[int, str]) -> None:
    """Raw events that held only events the desk leaves alone on purpose (reads,
    deliveries, likes…): ``ignored``, with the event types as the reason."""
    now = utcnow()
    for raw_id, reason in reasons.items():
        conn.execute(
            update(_raw)
            .where(_raw.c.id == raw_id)
            .values(
                status=str(RawEventStatus.IGNORED),
                processed_at=now,
                attempts=_raw.c.attempts + 1,
                error=reason[:4000],
                next_attempt_at=None,
            )
        )


def ignored_reason(types: Sequence[str]) -> str:
    """``ignored: messenger.delivery (2), messenger.read`` (sorted, counted)."""
    counts: dict[str, int] = {}
    for t in types:
        counts[t] = counts.get(t, 0) + 1
    parts = [f"{t} ({n})" if n > 1 else t for t, n in sorted(counts.items())]
    return "ignored: " + ", ".join(parts)


def mark_failed(conn: Connection, raw_id: int, error: str, *, only_pending: bool = False) -> None:
    """Failed for good with ``error`` as its reason (listed for admins, retried by hand).

    ``only_pending``: leave it alone if another worker has settled it meanwhile, so an
    event whose message was stored is never marked failed."""
    where = [_raw.c.id == raw_id]
    if only_pending:
        where.append(_raw.c.status == str(RawEventStatus.PENDING))
    conn.execute(
        update(_raw)
        .where(*where)
        .values(
            status=str(RawEventStatus.FAILED),
            error=error[:4000],
            attempts=_raw.c.attempts + 1,
            processed_at=utcnow(),
            next_attempt_at=None,
        )
    )


def defer(conn: Connection, ids: Sequence[int], error: str, now: datetime | None = None) -> None:
    """A transient failure: still ``pending``, one more attempt counted, ``error`` kept as
    the last reason, and not claimed again before the backoff has passed."""
    now = now or utcnow()
    for part in chunks(list(ids)):
        rows = conn.execute(
            select(_raw.c.id, _raw.c.attempts).where(
                _raw.c.id.in_(part), _raw.c.status == str(RawEventStatus.PENDING)
            )
        ).all()
        for row in rows:
            raw_id, attempts = int(row[0]), int(row[1])
            conn.execute(
                update(_raw)
                .where(_raw.c.id == raw_id)
                .values(
                    attempts=attempts + 1,
                    error=error[:4000],
                    next_attempt_at=now + backoff(attempts + 1),
                )
            )


def store_rejected(
    conn: Connection,
    parent_id: int,
    source: str,
    channel_account_id: int | None,
    rejected: Sequence[RejectedEvent],
) -> list[int]:
    """Each refused event of a delivery whose neighbours were read, kept as a failed raw
    event of its own (its body holds only that event, so a retry reads just it)."""
    if not rejected:
        return []
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "source": source,
            "channel_account_id": channel_account_id,
            "received_at": now,
            "headers": {},
            "body": r.body,
            "status": str(RawEventStatus.FAILED),
            "error": f"payload: {r.reason}"[:4000],
            "attempts": 1,
            "processed_at": now,
            "split_from_id": parent_id,
        }
        for r in rejected
    ]
    return insert_with_ids(conn, _raw, rows)


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
        rows = [_pending_row(d, own_spool=True) for d in waiting if d.id not in moved]
        if rows:
            conn.execute(insert(_raw), rows)
    spool.forget(ids)
    return len(waiting)


def import_foreign_spool(db: Database, spool: InboxSpool, limit: int = 500) -> int:
    """Move one batch from a spool that is not this database's own into ``raw_events``.

    For a spool set aside as orphaned (``…-inbox-orphaned-<time>``): its deliveries were
    acknowledged to the platforms, so they are still owed a ticket. Its ids and account
    ids belong to another database, so neither is kept: processing finds the account
    from the payload, as it does for every webhook. A crash between the move and the
    forget imports a batch twice; the pipeline already drops redelivered posts by their
    platform id, so no message is doubled. Returns how many deliveries it took.
    """
    waiting = spool.oldest(limit)
    if not waiting:
        return 0
    with db.write() as session:
        session.connection().execute(
            insert(_raw), [_pending_row(d, own_spool=False) for d in waiting]
        )
    spool.forget([d.id for d in waiting])
    return len(waiting)


def _pending_row(delivery: SpooledDelivery, *, own_spool: bool) -> dict[str, Any]:
    return {
        "source": delivery.source,
        "channel_account_id": delivery.channel_account_id if own_spool else None,
        "received_at": delivery.received_at,
        "headers": delivery.headers,
        "body": delivery.body,
        "status": str(RawEventStatus.PENDING),
        "attempts": 0,
        "inbox_id": delivery.id if own_spool else None,
    }
