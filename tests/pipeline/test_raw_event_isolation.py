"""The raw-event worker on the real database: a poison event in the pipeline costs only
itself, transient failures (a dropped connection, a locked database) are retried with
backoff and never failed, and two workers never process the same event."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import OperationalError

from socialdesk.channels.x.connector import XConnector
from socialdesk.domain.enums import Platform, RawEventStatus
from socialdesk.pipeline.ingest import BatchContext, Pipeline
from socialdesk.pipeline.raw_events import RawDelivery, store_raw_events
from socialdesk.pipeline.webhook_processing import Parser, process_pending
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import ChannelAccount, Message, RawEvent
from tests.conftest import BACKEND, PG_ADMIN_URL
from tests.pipeline.helpers import make_account

SOURCE = "hooks:x"


@pytest.fixture
def brand(db: Database) -> Iterator[str]:
    account_id = make_account(db)
    with db.session() as s:
        external_id = s.get_one(ChannelAccount, account_id).external_id
    yield external_id


def parsers() -> dict[str, Parser]:
    return {SOURCE: XConnector("secret").parse_webhook}


def deliver(db: Database, brand: str, texts: list[str]) -> list[int]:
    """One stored webhook delivery (one tweet) per text, as the endpoint stores them."""
    bodies = [
        json.dumps(
            {
                "for_user_id": brand,
                "tweet_create_events": [
                    {
                        "id_str": f"{n}",
                        "text": text,
                        "timestamp_ms": str(1509487847000 + n),
                        "user": {"id_str": f"9{n}", "screen_name": f"u{n}"},
                    }
                ],
            }
        )
        for n, text in enumerate(texts, start=1)
    ]
    with db.write() as s:
        return store_raw_events(s.connection(), [RawDelivery(SOURCE, b) for b in bodies])


def statuses(db: Database) -> dict[str, int]:
    with db.session() as s:
        rows = s.execute(select(RawEvent.status, func.count()).group_by(RawEvent.status))
        return {str(status): int(n) for status, n in rows}


def message_count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Message)) or 0


class PoisonStep:
    """A pipeline stage that fails on one post: a bug that only its text triggers."""

    name = "poison"

    def apply(self, conn: Connection, batch: BatchContext) -> None:
        for placed in batch.placed:
            if "POISON" in placed.source.body:
                raise ValueError(f"cannot triage post {placed.source.platform_message_id}")


def test_a_poison_post_in_the_pipeline_fails_alone(db: Database, brand: str) -> None:
    texts = [f"good {n}" for n in range(10)]
    texts.insert(4, "POISON here")
    ids = deliver(db, brand, texts)
    pipeline = Pipeline(steps=[PoisonStep()])
    outcome = process_pending(db, pipeline, parsers())
    assert (outcome.events, outcome.messages, outcome.failed) == (11, 10, 1)
    assert statuses(db) == {"processed": 10, "failed": 1}
    assert message_count(db) == 10
    with db.session() as s:
        poison = s.get_one(RawEvent, ids[4])
    assert poison.status == RawEventStatus.FAILED
    assert poison.error == "ValueError: cannot triage post 5"
    # A second pass finds nothing: the poison is not retried until someone asks.
    assert process_pending(db, pipeline, parsers()).events == 0


class DropsConnection:
    """Loses the connection mid-batch the first ``times`` batches: on PostgreSQL the
    worker's backend is terminated by an administrator's connection; on SQLite the
    database reports itself locked."""

    name = "drops-connection"

    def __init__(self, times: int) -> None:
        self.left = times
        self.dropped = 0

    def apply(self, conn: Connection, batch: BatchContext) -> None:
        if self.left <= 0:
            return
        self.left -= 1
        self.dropped += 1
        if BACKEND == "postgresql":
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            conn.exec_driver_sql("SELECT 1")  # the server is gone: OperationalError
        raise OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))


def test_a_dropped_connection_loses_nothing_acknowledged(db: Database, brand: str) -> None:
    acknowledged = deliver(db, brand, [f"post {n}" for n in range(250)])
    dropping = DropsConnection(times=2)
    pipeline = Pipeline(steps=[dropping])
    now = utcnow()  # the passes below see the clock stand still: no backoff runs out

    first = process_pending(db, pipeline, parsers(), now=now)
    assert (first.events, first.deferred, first.failed, first.messages) == (100, 100, 0, 0)
    with db.session() as s:
        waiting = s.scalars(select(RawEvent).where(RawEvent.id.in_(acknowledged[:100]))).all()
    assert {(e.status, e.attempts) for e in waiting} == {("pending", 1)}
    assert all(e.next_attempt_at and e.next_attempt_at > now for e in waiting)
    lost = (
        "AdminShutdown: terminating connection due to administrator command"
        if BACKEND == "postgresql"
        else "OperationalError: database is locked"
    )
    assert {(e.error or "").strip() for e in waiting} == {lost}

    # The backing-off events are skipped; the rest is claimed (and dropped once more).
    second = process_pending(db, pipeline, parsers(), now=now)
    assert (second.events, second.deferred) == (100, 100)
    while process_pending(db, pipeline, parsers(), now=now).events:
        pass
    assert statuses(db) == {"processed": 50, "pending": 200}

    # Their backoff over, the deferred events go through.
    later = now + timedelta(minutes=10)
    while process_pending(db, pipeline, parsers(), now=later).events:
        pass
    assert dropping.dropped == 2
    assert statuses(db) == {"processed": 250}
    assert message_count(db) == len(acknowledged)
    with db.session() as s:
        retried = s.scalars(select(RawEvent.attempts).where(RawEvent.id == acknowledged[0]))
        assert list(retried) == [2]


def test_two_workers_process_every_event_once(db: Database, brand: str) -> None:
    acknowledged = deliver(db, brand, [f"concurrent {n}" for n in range(300)])
    outcomes: list[tuple[int, int, int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        pipeline = Pipeline()
        start.wait()
        try:
            while (done := process_pending(db, pipeline, parsers(), limit=25)).events:
                outcomes.append((done.events, done.messages, done.failed))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert statuses(db) == {"processed": len(acknowledged)}
    assert sum(events for events, _, _ in outcomes) == len(acknowledged)  # each claimed once
    assert sum(messages for _, messages, _ in outcomes) == len(acknowledged)
    assert sum(failed for _, _, failed in outcomes) == 0
    with db.session() as s:
        per_raw = s.execute(
            select(Message.raw_event_id, func.count()).group_by(Message.raw_event_id)
        ).all()
    assert len(per_raw) == len(acknowledged) and {n for _, n in per_raw} == {1}


def test_a_missing_time_falls_back_to_when_the_delivery_arrived(db: Database, brand: str) -> None:
    body = {
        "for_user_id": brand,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": "777",
                "message_create": {
                    "sender_id": "42",
                    "target": {"recipient_id": brand},
                    "message_data": {"text": "no created_timestamp"},
                },
            }
        ],
    }
    with db.write() as s:
        [raw_id] = store_raw_events(s.connection(), [RawDelivery(SOURCE, json.dumps(body))])
    assert process_pending(db, Pipeline(), parsers()).messages == 1
    with db.session() as s:
        received = s.get_one(RawEvent, raw_id).received_at
        message = s.scalars(select(Message)).one()
    assert message.created_at == received
    assert message.platform == Platform.X


class TimesOutOn:
    """A statement timeout whenever the batch holds one particular post."""

    name = "times-out"

    def apply(self, conn: Connection, batch: BatchContext) -> None:
        if any("STUCK" in placed.source.body for placed in batch.placed):
            raise OperationalError("UPDATE ...", {}, sqlite3.OperationalError("database is locked"))


def test_an_event_that_keeps_timing_out_backs_off_alone(db: Database, brand: str) -> None:
    ids = deliver(db, brand, ["fine 1", "STUCK post", "fine 2", "fine 3"])
    pipeline = Pipeline(steps=[TimesOutOn()])

    later = utcnow()
    for _ in range(2):  # the whole batch backs off, twice
        outcome = process_pending(db, pipeline, parsers(), now=later)
        assert (outcome.deferred, outcome.messages, outcome.failed) == (4, 0, 0)
        assert process_pending(db, pipeline, parsers(), now=later).events == 0  # backing off
        later += timedelta(minutes=10)
    # Then it is split: the good posts land; the stuck one backs off on its own.
    outcome = process_pending(db, pipeline, parsers(), now=later)
    assert (outcome.events, outcome.messages, outcome.deferred, outcome.failed) == (4, 3, 1, 0)
    with db.session() as s:
        stuck = s.get_one(RawEvent, ids[1])
    assert (stuck.status, stuck.attempts) == ("pending", 3)
    assert stuck.error == "OperationalError: database is locked"
    assert statuses(db) == {"processed": 3, "pending": 1}
