"""Turn stored webhook deliveries into tickets, in batches, off the request path.

The webhook endpoint stores the raw body and answers at once; this processor claims
pending raw events, parses each with its connector, and sends every message of the
batch through the pipeline in one transaction. Raw events left pending by a crash are
picked up on the next run, so nothing acknowledged is ever lost.

One bad delivery never costs its neighbours:

* a delivery that cannot be parsed is marked ``failed`` with its reason inside the
  batch; an event refused within a delivery whose other events were read is kept as a
  failed raw event of its own (``split_from_id``);
* a batch that fails in the pipeline is rolled back and run again one delivery per
  transaction, so the good ones land and only the poison one is marked ``failed``;
* an event the desk leaves alone on purpose (a read, a delivery report, a like) is
  counted by type (``socialdesk_webhook_events_ignored``); a delivery holding nothing
  else is marked ``ignored`` with those types as its reason, never ``failed``;
* a transient failure (connection lost, lock timeout, serialization failure, deadlock;
  ``store.transient``) fails nothing: the claimed events stay ``pending`` with an
  attempt counted and a backoff (``next_attempt_at``).

The claim is the batch transaction itself: on PostgreSQL ``FOR UPDATE SKIP LOCKED``
gives two workers disjoint batches, and the lock is held until the batch's messages
and ``processed`` marks commit together (a crash releases it, leaving the events
pending). SQLite has a single writer (``BEGIN IMMEDIATE``), so the claim needs no lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from socialdesk.background import BackgroundWorker
from socialdesk.channels.base import AccountRef, ParsedEvent, PayloadError
from socialdesk.domain.enums import AccountStatus, Platform, RawEventStatus
from socialdesk.domain.messages import InboundMessage
from socialdesk.observability.logs import bind_log_context
from socialdesk.observability.metrics import IGNORED_EVENTS, after_commit
from socialdesk.pipeline.delivery_statuses import apply_statuses
from socialdesk.pipeline.echoes import confirm_echoes_in
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.raw_events import (
    defer,
    drain_inbox,
    ignored_reason,
    mark_failed,
    mark_ignored,
    mark_processed,
    store_rejected,
)
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import ChannelAccount, RawEvent
from socialdesk.store.transient import is_transient, is_unique_violation

log = logging.getLogger(__name__)

# Two workers that take different deliveries of one new customer (or of one post, seen
# by webhook and by polling) race to insert it; the loser's unique-key error is retried
# after a backoff, when the winner's row is visible and the work deduplicates. A real
# duplicate in one event's own data would fail every time: it fails after this many.
RACE_RETRIES = 4

Resolver = Callable[[Platform, str], AccountRef | None]


class Parser(Protocol):
    """A connector's ``parse_webhook``: a body, the account lookup and when the delivery
    arrived (the time of an event that carries none)."""

    def __call__(
        self, raw_body: bytes, resolve_account: Resolver, received_at: datetime | None = None
    ) -> ParsedEvent: ...


@dataclass(slots=True)
class BatchOutcome:
    events: int = 0  # raw events claimed
    messages: int = 0  # messages stored
    failed: int = 0  # raw events (and split-off events) marked failed
    deferred: int = 0  # left pending after a transient failure, for a later attempt


def _resolver(db: Database) -> Resolver:
    with db.session() as s:
        accounts = {
            (a.platform, a.external_id): AccountRef(
                id=a.id,
                platform=Platform(a.platform),
                external_id=a.external_id,
                handle=a.handle,
                settings=a.settings,
            )
            for a in s.scalars(
                select(ChannelAccount).where(ChannelAccount.status != str(AccountStatus.DISABLED))
            )
        }

    def resolve(platform: Platform, external_id: str) -> AccountRef | None:
        return accounts.get((str(platform), external_id))

    return resolve


# A claimed raw event: id, source, body, received_at, attempts so far.
Claimed = tuple[int, str, str, datetime, int]
# A batch failing transiently this often is split, in case one of its events is what
# keeps timing out: then only that one keeps backing off.
SPLIT_AFTER_ATTEMPTS = 2


def _due(sources: Sequence[str], now: datetime) -> list[ColumnElement[bool]]:
    return [
        RawEvent.status == str(RawEventStatus.PENDING),
        RawEvent.source.in_(list(sources)),
        or_(RawEvent.next_attempt_at.is_(None), RawEvent.next_attempt_at <= now),
    ]


def _claim(s: Session, where: Sequence[ColumnElement[bool]], limit: int) -> list[Claimed]:
    """Rows no other worker holds, locked until this transaction ends (PostgreSQL);
    SQLite renders no ``FOR UPDATE`` and needs none under its single writer."""
    rows = s.execute(
        select(RawEvent.id, RawEvent.source, RawEvent.body, RawEvent.received_at, RawEvent.attempts)
        .where(*where)
        .order_by(RawEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def _error_text(exc: BaseException) -> str:
    """The reason kept for admins: the exception's type and message, never a
    traceback (the database URL or a secret could be in the frames' locals), and for a
    database error the driver's message without SQLAlchemy's statement and parameters
    (customer data)."""
    if isinstance(exc, StatementError) and exc.orig is not None:
        exc = exc.orig
    return f"{type(exc).__name__}: {exc}"[:4000]


def _run(
    s: Session,
    rows: Sequence[Claimed],
    pipeline: Pipeline,
    parsers: Mapping[str, Parser],
    resolve: Resolver,
) -> BatchOutcome:
    """Parse, confirm echoes, ingest and mark the claimed ``rows`` in the caller's
    transaction. A delivery that cannot be parsed is marked failed here; a failure in
    the pipeline raises, for the caller to roll back and split the batch."""
    outcome = BatchOutcome(events=len(rows))
    conn = s.connection()
    messages: list[InboundMessage] = []
    parsed_ids: list[int] = []
    revoked: set[int] = set()
    only_ignored: dict[int, str] = {}
    ignored_counts: dict[tuple[str, str], int] = {}
    for raw_id, source, body, received_at, _ in rows:
        bind_log_context(raw_event_id=raw_id, account_id=None, ticket_id=None)
        try:
            parsed = parsers[source](body.encode("utf-8"), resolve, received_at)
        except Exception as exc:  # a parser bug on odd input is as final as bad input
            outcome.failed += 1
            reason = f"payload: {exc}" if isinstance(exc, PayloadError) else _error_text(exc)
            mark_failed(conn, raw_id, reason)
            continue
        bind_log_context(account_id=next((m.channel_account_id for m in parsed.messages), None))
        if parsed.echoes:
            _confirm_echoes(s, parsed)
        if parsed.statuses:
            apply_statuses(s, parsed.statuses)
        if parsed.rejected:
            account = parsed.messages[0].channel_account_id if parsed.messages else None
            outcome.failed += len(store_rejected(conn, raw_id, source, account, parsed.rejected))
        messages.extend(replace(m, raw_event_id=raw_id) for m in parsed.messages)
        revoked.update(parsed.revoked_account_ids)
        for kind in parsed.ignored:
            ignored_counts[(source, kind)] = ignored_counts.get((source, kind), 0) + 1
        if parsed.ignored and _holds_only_ignored(parsed):
            only_ignored[raw_id] = ignored_reason(parsed.ignored)
        else:
            parsed_ids.append(raw_id)
    bind_log_context(raw_event_id=None, account_id=None)  # the batch is no one event
    result = pipeline.ingest(conn, messages)
    mark_processed(conn, parsed_ids)
    mark_ignored(conn, only_ignored)
    if ignored_counts:
        after_commit(s, lambda: _count_ignored(ignored_counts))
    touched = {m.channel_account_id for m in messages}
    if touched:
        conn.execute(
            update(ChannelAccount)
            .where(ChannelAccount.id.in_(touched))
            .values(last_received_at=utcnow())
        )
    if revoked:
        conn.execute(
            update(ChannelAccount)
            .where(ChannelAccount.id.in_(revoked))
            .values(
                status=str(AccountStatus.NEEDS_REAUTH),
                status_reason="the network revoked access",
            )
        )
    outcome.messages = result.stored
    return outcome


def _holds_only_ignored(parsed: ParsedEvent) -> bool:
    return not (
        parsed.messages
        or parsed.echoes
        or parsed.echoed_message_ids
        or parsed.statuses
        or parsed.revoked_account_ids
        or parsed.rejected
    )


def _count_ignored(counts: Mapping[tuple[str, str], int]) -> None:
    for (source, kind), n in counts.items():
        IGNORED_EVENTS.labels(source=source, type=kind).inc(n)


def _confirm_echoes(s: Session, parsed: ParsedEvent) -> None:
    """Our own sends seen again settle their outbox rows first, so a customer's answer
    in the same batch threads under them. A failure here must not hold up the
    delivery's messages (the delivery worker looks the send up itself), unless the
    connection itself is gone."""
    try:
        with s.begin_nested():
            confirm_echoes_in(s, parsed)
    except Exception as exc:
        if is_transient(exc):
            raise
        log.exception("confirming echoed sends failed; the delivery worker will look them up")


def process_pending(
    db: Database,
    pipeline: Pipeline,
    parsers: Mapping[str, Parser],
    limit: int = 100,
    now: datetime | None = None,
) -> BatchOutcome:
    """One batch of raw events due at ``now`` (default: the current time); what became
    of it. Raises only when the database cannot be reached even to record a transient
    failure (the events stay pending)."""
    drain_inbox(db)  # deliveries acknowledged into SQLite's inbox spool come first
    now = now or utcnow()
    where = _due(list(parsers), now)
    with db.session() as s:  # a plain read while idle: no write lock taken for nothing
        if s.scalar(select(RawEvent.id).where(*where).limit(1)) is None:
            return BatchOutcome()
    return _process(db, pipeline, parsers, where, limit, now)


def process_raw_events(
    db: Database, pipeline: Pipeline, parsers: Mapping[str, Parser], ids: Sequence[int]
) -> BatchOutcome:
    """These pending raw events (a poll just stored them), as ``process_pending`` would:
    those another worker holds or has settled are left to it."""
    outcome = BatchOutcome()
    for start in range(0, len(ids), 500):
        part = list(ids[start : start + 500])
        now = utcnow()
        where = [RawEvent.id.in_(part), *_due(list(parsers), now)]
        done = _process(db, pipeline, parsers, where, len(part), now)
        outcome.events += done.events
        outcome.messages += done.messages
        outcome.failed += done.failed
        outcome.deferred += done.deferred
    return outcome


def _process(
    db: Database,
    pipeline: Pipeline,
    parsers: Mapping[str, Parser],
    where: Sequence[ColumnElement[bool]],
    limit: int,
    now: datetime,
) -> BatchOutcome:
    resolve = _resolver(db)
    claimed: list[int] = []
    tried = 0
    try:
        with db.write() as s:
            rows = _claim(s, where, limit)
            claimed = [row[0] for row in rows]
            tried = max((row[4] for row in rows), default=0)
            return _run(s, rows, pipeline, parsers, resolve)
    except Exception as exc:
        if not claimed:
            raise
        if is_transient(exc) and (len(claimed) == 1 or tried < SPLIT_AFTER_ATTEMPTS):
            log.warning("raw-event batch hit a transient error; retrying later: %s", exc)
            _defer(db, claimed, exc, now)
            return BatchOutcome(events=len(claimed), deferred=len(claimed))
        log.exception("raw-event batch failed; retrying event by event")
    outcome = BatchOutcome()
    for raw_id in claimed:
        one = _process_one(db, pipeline, parsers, resolve, raw_id, now)
        outcome.events += one.events
        outcome.messages += one.messages
        outcome.failed += one.failed
        outcome.deferred += one.deferred
    return outcome


def _process_one(
    db: Database,
    pipeline: Pipeline,
    parsers: Mapping[str, Parser],
    resolve: Resolver,
    raw_id: int,
    now: datetime,
) -> BatchOutcome:
    """One raw event in a transaction of its own; a permanent failure marks it failed
    with its reason (unless another worker settled it meanwhile)."""
    where = [RawEvent.id == raw_id, RawEvent.status == str(RawEventStatus.PENDING)]
    try:
        with db.write() as s:
            return _run(s, _claim(s, where, 1), pipeline, parsers, resolve)
    except Exception as exc:
        if is_transient(exc) or (is_unique_violation(exc) and _attempts(db, raw_id) < RACE_RETRIES):
            _defer(db, [raw_id], exc, now)
            return BatchOutcome(events=1, deferred=1)
        with db.write() as s:
            mark_failed(s.connection(), raw_id, _error_text(exc), only_pending=True)
        return BatchOutcome(events=1, failed=1)


def _attempts(db: Database, raw_id: int) -> int:
    with db.session() as s:
        return int(s.scalar(select(RawEvent.attempts).where(RawEvent.id == raw_id)) or 0)


def _defer(db: Database, ids: Sequence[int], exc: BaseException, now: datetime) -> None:
    """Record the attempt and the backoff. If even that fails the events simply stay
    pending (the batch was rolled back), and the original error goes to the worker."""
    try:
        with db.write() as s:
            defer(s.connection(), ids, _error_text(exc), now)
    except Exception:
        log.warning("could not record the transient failure; the events stay pending")
        raise exc from None


class RawEventWorker(BackgroundWorker):
    """Drains pending raw events whenever it is kicked, and four times a second for those
    that another process (a separate web server) acknowledged: two indexed reads when
    idle, and a ticket a customer sees within a quarter of a second."""

    name = "raw-event-worker"
    interval = 0.25

    def __init__(self, db: Database, pipeline: Pipeline, parsers: Mapping[str, Parser]) -> None:
        super().__init__()
        self.db = db
        self.pipeline = pipeline
        self.parsers = parsers

    def start(self) -> None:
        super().start()
        self.kick()  # leftovers from before a restart

    def run_pass(self) -> bool:
        outcome = process_pending(self.db, self.pipeline, self.parsers)
        # Events only deferred are not waiting for this worker now: sleep, don't spin.
        return outcome.events > outcome.deferred
