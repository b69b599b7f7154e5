"""The SLA scan's warnings and breaches are counted once, after their commit."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import REGISTRY

from socialdesk.automation.periodic_scan import SlaScanWorker
from socialdesk.config import Settings
from socialdesk.store.db import Database
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import T0, ingest, make_account, post
from tests.sla.helpers import add_policy, ticket_of


def breaches() -> float:
    labels = {"target": "first_response", "kind": "breach"}
    return REGISTRY.get_sample_value("socialdesk_sla_notices_total", labels) or 0.0


def test_a_breach_found_by_the_scan_is_counted_once(db: Database) -> None:
    add_policy(db, calendar=None)
    ingest(db, post(make_account(db), "1", "hello?"), pipeline=build_pipeline(Settings()))
    assert ticket_of(db, "1").id
    before = breaches()
    worker = SlaScanWorker(db, clock=lambda: T0 + timedelta(days=2))
    assert worker.run_once() >= 1
    assert breaches() == before + 1
    assert worker.run_once() == 0  # nothing new: the clock moved past its notices
    assert breaches() == before + 1
