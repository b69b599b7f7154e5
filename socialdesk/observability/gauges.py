"""Queue sizes and ages, read from the database when Prometheus scrapes.

These are the numbers every process agrees on (the database is shared), so they are
not counted in memory: a scrape of any process reads them. Every query is a range read
of an index on (state, …) that stops at the states asked for, or the first row of one,
so a scrape costs the same with a million processed events behind it. A database that
cannot be read gives ``socialdesk_database_up 0`` and no queue gauges, not an error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Protocol

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from socialdesk.domain.enums import RawEventStatus
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import Message, NotificationOutboxEntry, OutboxEntry, RawEvent

log = logging.getLogger(__name__)

RAW_STATES = (str(RawEventStatus.PENDING), str(RawEventStatus.FAILED))
OUTBOX_STATES = ("queued", "sending", "failed")
NOTIFY_STATES = ("queued", "sending", "failed", "not_configured")


class _Worker(Protocol):
    name: str

    def seconds_since_last_pass(self) -> float | None: ...


def lag_seconds(oldest: datetime | None, now: datetime) -> float:
    """How far a queue is behind: the age of its oldest waiting item (0 when empty)."""
    if oldest is None:
        return 0.0
    return max(0.0, (now - oldest).total_seconds())


class DatabaseCollector(Collector):
    """The database-backed gauges, the live subscribers and this process's workers."""

    def __init__(
        self,
        db: Database,
        workers: Callable[[], Sequence[_Worker]] = list,
        live_subscribers: Callable[[], int] | None = None,
    ) -> None:
        self.db = db
        self.workers = workers
        self.live_subscribers = live_subscribers

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "socialdesk_database_up", "1 when this scrape could read the database, else 0"
        )
        try:
            families = self._queues(utcnow())
        except (SQLAlchemyError, OSError) as exc:
            log.warning("metrics: the database could not be read (%s)", type(exc).__name__)
            up.add_metric([], 0)
            families = []
        else:
            up.add_metric([], 1)
        yield up
        yield from families
        if self.live_subscribers is not None:
            live = GaugeMetricFamily(
                "socialdesk_live_subscribers", "Open live-update streams (inbox pages) here"
            )
            live.add_metric([], self.live_subscribers())
            yield live
        passes = GaugeMetricFamily(
            "socialdesk_worker_last_pass_age_seconds",
            "Seconds since each background worker in this process last finished a pass "
            "without error (or started)",
            labels=["worker"],
        )
        for worker in self.workers():
            age = worker.seconds_since_last_pass()
            if age is not None:
                passes.add_metric([worker.name], age)
        yield passes

    def _queues(self, now: datetime) -> list[GaugeMetricFamily]:
        started = time.perf_counter()
        raw = GaugeMetricFamily(
            "socialdesk_raw_events",
            "Stored webhook/poll events by state: pending (not yet ticketed) and failed",
            labels=["state"],
        )
        outbox = GaugeMetricFamily(
            "socialdesk_outbox", "Outbound replies by outbox state", labels=["state"]
        )
        notify = GaugeMetricFamily(
            "socialdesk_notification_outbox",
            "E-mail notifications to agents by outbox state",
            labels=["state"],
        )
        lag = GaugeMetricFamily(
            "socialdesk_worker_lag_seconds",
            "Age of the oldest item waiting in a queue: a pending raw event (or spooled "
            "delivery), an outbox row or notification due but not yet sent",
            labels=["queue"],
        )
        with self.db.session() as s:
            raw_counts = dict(
                s.execute(
                    select(RawEvent.status, func.count())
                    .where(RawEvent.status.in_(RAW_STATES))
                    .group_by(RawEvent.status)
                ).all()
            )
            outbox_counts = dict(
                s.execute(
                    select(OutboxEntry.state, func.count())
                    .where(OutboxEntry.state.in_(OUTBOX_STATES))
                    .group_by(OutboxEntry.state)
                ).all()
            )
            notify_counts = dict(
                s.execute(
                    select(NotificationOutboxEntry.state, func.count())
                    .where(NotificationOutboxEntry.state.in_(NOTIFY_STATES))
                    .group_by(NotificationOutboxEntry.state)
                ).all()
            )
            triage_backlog = s.scalar(
                select(func.count()).select_from(Message).where(Message.triage_pending.is_(True))
            )
            oldest_raw = s.scalar(
                select(RawEvent.received_at)
                .where(RawEvent.status == str(RawEventStatus.PENDING))
                .order_by(RawEvent.id)
                .limit(1)
            )
            oldest_outbox = s.scalar(
                select(func.min(OutboxEntry.next_attempt_at)).where(
                    OutboxEntry.state == "queued", OutboxEntry.next_attempt_at <= now
                )
            )
            oldest_notify = s.scalar(
                select(func.min(NotificationOutboxEntry.next_attempt_at)).where(
                    NotificationOutboxEntry.state == "queued",
                    NotificationOutboxEntry.next_attempt_at <= now,
                )
            )
        backlog = GaugeMetricFamily(
            "socialdesk_triage_encoder_backlog",
            "Messages labelled by the inline triage pass that the encoder worker has yet to refine",
        )
        backlog.add_metric([], triage_backlog or 0)
        families = [raw, outbox, notify, lag, backlog]
        for family, states, counts in (
            (raw, RAW_STATES, raw_counts),
            (outbox, OUTBOX_STATES, outbox_counts),
            (notify, NOTIFY_STATES, notify_counts),
        ):
            for state in states:
                family.add_metric([state], counts.get(state, 0))
        spool = self.db.inbox_spool
        if spool is not None:
            spooled = GaugeMetricFamily(
                "socialdesk_webhook_spool_pending",
                "Webhook deliveries acknowledged into SQLite's inbox spool, not yet moved "
                "into raw_events",
            )
            spooled.add_metric([], spool.count())
            families.append(spooled)
            spooled_at = spool.oldest_received_at()
            if spooled_at is not None and (oldest_raw is None or spooled_at < oldest_raw):
                oldest_raw = spooled_at
        lag.add_metric(["raw_events"], lag_seconds(oldest_raw, now))
        lag.add_metric(["outbox"], lag_seconds(oldest_outbox, now))
        lag.add_metric(["notification_outbox"], lag_seconds(oldest_notify, now))
        took = GaugeMetricFamily(
            "socialdesk_metrics_query_seconds", "Time the database gauges took to read"
        )
        took.add_metric([], time.perf_counter() - started)
        families.append(took)
        return families
