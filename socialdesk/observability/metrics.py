"""Counters and histograms, updated where things happen (prometheus-client).

Each process counts what it does itself and exposes its own numbers (the web process on
``/metrics``, a separate ``socialdesk worker`` on ``--metrics-port``); Prometheus scrapes
each as a target and ``sum()`` adds them up. prometheus-client's multiprocess mode is not
used: socialdesk's processes are started separately (not forked from one parent that
could own a shared directory), and the queue sizes that matter across processes are
read from the database at scrape time (``gauges.py``), the same from any process.

What happens inside a database transaction is counted after its commit
(``after_commit``), so a rolled-back send or scan is never counted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import Counter, Histogram, disable_created_metrics
from sqlalchemy import event
from sqlalchemy.orm import Session

delivery_log = logging.getLogger("socialdesk.delivery")
# No `_created` series beside every counter: twice the series for a number no alert uses.
disable_created_metrics()

WEBHOOK_ACKS = Counter(
    "socialdesk_webhook_requests",
    "Webhook deliveries answered, by source and outcome "
    "(stored, malformed, rejected: bad signature, too_large)",
    ["source", "outcome"],
)
WEBHOOK_ACK_SECONDS = Histogram(
    "socialdesk_webhook_ack_seconds",
    "Time from a webhook request's start to its stored acknowledgement",
    ["source"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
INBOX_COMMITS = Histogram(
    "socialdesk_webhook_commit_seconds",
    "One group commit of webhook deliveries (inbox spool or raw_events)",
    ["target"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)
IGNORED_EVENTS = Counter(
    "socialdesk_webhook_events_ignored",
    "Webhook events read and left alone on purpose (reads, deliveries, likes, follows), "
    "by source and event type",
    ["source", "type"],
)
INBOX_DELIVERIES = Counter(
    "socialdesk_webhook_deliveries_committed",
    "Webhook deliveries committed by the group commit",
    ["target"],
)
DELIVERIES = Counter(
    "socialdesk_delivery_outcomes",
    "Outbound replies settled by the delivery worker, by network and outcome (sent, retry, failed)",
    ["network", "outcome"],
)
DELIVERY_SECONDS = Histogram(
    "socialdesk_delivery_latency_seconds",
    "Time from a reply being queued (or its scheduled time) to the network accepting it",
    ["network"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0),
)
SLA_NOTICES = Counter(
    "socialdesk_sla_notices",
    "SLA warnings and breaches recorded by the periodic SLA scan, by target and kind",
    ["target", "kind"],
)
WORKER_PASSES = Counter(
    "socialdesk_worker_passes",
    "Passes of the background workers in this process, by worker and outcome (ok, error)",
    ["worker", "outcome"],
)


# -- after commit ---------------------------------------------------------------------

_KEY = "socialdesk_metrics_after_commit"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's transaction commits (never on rollback)."""
    session.info.setdefault(_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_KEY, []):
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)


# -- recording ------------------------------------------------------------------------


def webhook_answered(source: str, outcome: str, started: float, now: float) -> None:
    """A webhook request ended; ``started``/``now`` are ``time.perf_counter()`` readings."""
    WEBHOOK_ACKS.labels(source, outcome).inc()
    if outcome == "stored":
        WEBHOOK_ACK_SECONDS.labels(source).observe(max(0.0, now - started))


def webhook_batch_committed(target: str, deliveries: int, seconds: float) -> None:
    INBOX_COMMITS.labels(target).observe(seconds)
    INBOX_DELIVERIES.labels(target).inc(deliveries)


class _Outbound(Protocol):
    id: int
    platform: str | None
    meta: dict[str, Any]


def delivery_latency(
    queued_at: datetime | None, scheduled_for: str | None, sent_at: datetime
) -> float | None:
    """Seconds a reply waited to go out: from when it was queued, or from its scheduled
    time for a scheduled reply (waiting for the schedule is not delay). None when the
    queue time is unknown (an echo settling a reply whose outbox row is gone)."""
    start = queued_at
    if scheduled_for:
        try:
            scheduled = datetime.fromisoformat(scheduled_for)
        except ValueError:
            scheduled = None
        if scheduled is not None and scheduled.tzinfo is not None:
            start = max(start, scheduled) if start is not None else scheduled
    if start is None:
        return None
    return max(0.0, (sent_at - start).total_seconds())


def delivery_settled(
    session: Session,
    message: _Outbound,
    outcome: str,
    queued_at: datetime | None = None,
    sent_at: datetime | None = None,
) -> None:
    """Count a reply's delivery outcome once ``session`` commits; a sent one also
    observes how long it waited."""
    network = message.platform or "unknown"
    scheduled = message.meta.get("scheduled_for") if isinstance(message.meta, dict) else None
    waited = (
        delivery_latency(queued_at, scheduled, sent_at)
        if outcome == "sent" and sent_at is not None
        else None
    )

    message_id = message.id

    def record() -> None:
        DELIVERIES.labels(network, outcome).inc()
        if waited is not None:
            DELIVERY_SECONDS.labels(network).observe(waited)
        # Runs in the worker's log scope: the line carries the ticket and account.
        delivery_log.info("reply %s: %s (%s)", message_id, outcome, network)

    after_commit(session, record)


class _Notice(Protocol):
    @property
    def target(self) -> str: ...

    @property
    def kind(self) -> Any: ...


def sla_notices_recorded(notices: Iterable[_Notice]) -> None:
    """Count what a committed SLA scan recorded (warnings and breaches)."""
    for notice in notices:
        SLA_NOTICES.labels(str(notice.target), str(notice.kind)).inc()


TRIAGE_REFINED = Counter(
    "socialdesk_triage_encoder_messages",
    "Messages whose inline triage the encoder worker refined (embedded and relabelled)",
)
TRIAGE_ENCODER_SECONDS = Counter(
    "socialdesk_triage_encoder_seconds",
    "Time the encoder worker spent on its batches; messages / seconds is its posts/s",
)


def triage_refined(messages: int, seconds: float) -> None:
    TRIAGE_REFINED.inc(messages)
    TRIAGE_ENCODER_SECONDS.inc(seconds)


def worker_pass(worker: str, ok: bool) -> None:
    WORKER_PASSES.labels(worker, "ok" if ok else "error").inc()
