"""Two raw-event workers that take different deliveries of one new customer (or of one
post) race to insert it: the loser's unique-key error is a race lost, retried after a
backoff, not a failed delivery. A unique error that repeats is failed with its reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from socialdesk.domain.enums import RawEventStatus
from socialdesk.pipeline.ingest import BatchContext, Pipeline
from socialdesk.pipeline.webhook_processing import RACE_RETRIES, process_pending
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import RawEvent, Workspace
from socialdesk.store.transient import is_transient, is_unique_violation
from tests.pipeline.test_raw_event_isolation import (
    brand,  # noqa: F401  (fixture)
    deliver,
    message_count,
    parsers,
    statuses,
)


def _duplicate_workspace(conn: Connection) -> None:
    """Insert a row whose unique key exists: the database's own unique-key error."""
    existing = conn.execute(select(Workspace.id, Workspace.slug).limit(1)).one()
    conn.execute(insert(Workspace).values(name="again", slug=existing.slug))


class LosesRaces:
    """A pipeline stage that loses ``times`` races against another worker's insert."""

    name = "loses-races"

    def __init__(self, times: int) -> None:
        self.left = times

    def apply(self, conn: Connection, batch: BatchContext) -> None:
        if self.left > 0:
            self.left -= 1
            _duplicate_workspace(conn)


def test_a_unique_key_error_is_told_from_other_errors(db: Database) -> None:
    with pytest.raises(IntegrityError) as caught, db.write() as s:
        s.add(Workspace(name="w", slug="w-one"))
        s.flush()
        _duplicate_workspace(s.connection())
    assert is_unique_violation(caught.value)
    assert not is_transient(caught.value)  # by itself it is no reason to retry forever
    with pytest.raises(IntegrityError) as not_null, db.write() as s:
        s.connection().execute(insert(Workspace).values(name=None, slug="w-two"))
    assert not is_unique_violation(not_null.value)


def test_a_lost_race_is_retried_not_failed(db: Database, brand: str) -> None:  # noqa: F811
    deliver(db, brand, ["my order never arrived"])
    pipeline = Pipeline(steps=[LosesRaces(times=2)])
    now = utcnow()
    for attempt in range(4):  # the batch, then the event alone, then after its backoff
        process_pending(db, pipeline, parsers(), now=now + timedelta(minutes=10 * attempt))
    assert statuses(db) == {str(RawEventStatus.PROCESSED): 1}
    assert message_count(db) == 1


def test_a_unique_error_that_repeats_is_failed_with_its_reason(
    db: Database,
    brand: str,  # noqa: F811
) -> None:
    deliver(db, brand, ["my order never arrived"])
    pipeline = Pipeline(steps=[LosesRaces(times=1_000)])
    now = utcnow()
    for attempt in range(RACE_RETRIES + 3):
        process_pending(db, pipeline, parsers(), now=now + timedelta(hours=attempt))
    assert statuses(db) == {str(RawEventStatus.FAILED): 1}
    with db.session() as s:
        failed = s.scalars(select(RawEvent)).one()
    assert failed.attempts == RACE_RETRIES + 1  # the first try and its retries
    assert failed.error and "unique" in failed.error.lower()
    assert message_count(db) == 0
