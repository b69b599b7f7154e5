"""The background pass runs the SLA scan and the time_elapsed rules on its own."""

from __future__ import annotations

import time
from datetime import timedelta

from socialdesk.automation.periodic_scan import SlaScanWorker
from socialdesk.config import Settings
from socialdesk.store.db import Database
from socialdesk.wiring.pipeline import build_pipeline
from tests.automation.test_automation_db import add_rule
from tests.pipeline.helpers import T0, ingest, make_account, post
from tests.sla.helpers import add_policy, events_of, ticket_of


def test_the_worker_runs_the_periodic_pass(db: Database) -> None:
    add_policy(db, calendar=None)
    add_rule(
        db,
        name="silent",
        event="time_elapsed",
        conditions=[{"field": "minutes_since_last_customer_message", "op": "gte", "value": 90}],
        actions=[{"type": "add_tag", "tag": "silent"}],
    )
    acct = make_account(db)
    ingest(db, post(acct, "1", "hello?"), pipeline=build_pipeline(Settings()))
    ticket_id = ticket_of(db, "1").id
    worker = SlaScanWorker(db, interval_seconds=0.05, clock=lambda: T0 + timedelta(minutes=91))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not events_of(db, ticket_id, "rule_fired"):
            time.sleep(0.05)
    finally:
        worker.stop()
    assert [k for k, _ in events_of(db, ticket_id, "rule_fired")] == ["rule_fired"]
    assert ("sla_breached", "first_response") in [
        (k, d["target"]) for k, d in events_of(db, ticket_id)
    ]
