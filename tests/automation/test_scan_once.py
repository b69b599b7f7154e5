"""Several processes run the SLA scan and the time rules: two passes at the same instant
record each notice, each rule firing and each notification once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.automation.step import run_sla_cycle
from socialdesk.config import Settings
from socialdesk.domain.enums import Role
from socialdesk.store.db import Database
from socialdesk.store.models import Notification, TicketEvent
from socialdesk.wiring.pipeline import build_pipeline
from tests.automation.test_automation_db import add_rule
from tests.pipeline.helpers import T0, ingest, make_account, post
from tests.sla.helpers import add_policy

PIPELINE = build_pipeline(Settings())
TICKETS = 40


def _desk(db: Database) -> None:
    add_policy(db, calendar=None)
    with db.write() as s:
        workspace = ensure_workspace(s)
        lead_id = create_user(
            s, "lead@ex.com", "correct horse battery", Role.LEAD, workspace=workspace
        ).id
    add_rule(
        db,
        name="tell the lead",
        event="sla_breach",
        conditions=[{"field": "sla_target", "op": "is", "value": "first_response"}],
        actions=[{"type": "notify", "user_id": lead_id, "message": "first response breached"}],
    )
    add_rule(
        db,
        name="still open after 90 minutes",
        event="time_elapsed",
        conditions=[
            {"field": "status", "op": "in", "value": ["new", "open"]},
            {"field": "minutes_since_status_change", "op": "gte", "value": 90},
        ],
        actions=[{"type": "add_tag", "tag": "stale"}],
    )
    account = make_account(db)
    ingest(
        db,
        *(post(account, str(n), f"@AcmeSupport help {n}", author=str(n)) for n in range(TICKETS)),
        pipeline=PIPELINE,
    )


def _count(db: Database, query: Any) -> int:
    with db.session() as s:
        return int(s.scalar(query) or 0)


def _at_once(db: Database, now: datetime, runners: int = 4) -> None:
    start = threading.Barrier(runners)
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            start.wait()
            run_sla_cycle(db, now)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=scan) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_scans_at_the_same_instant_record_everything_once(db: Database) -> None:
    _desk(db)
    # Warnings first, then breaches and the time rule: each scan is raced by four.
    for minutes in (50, 61, 91, 95):
        _at_once(db, T0 + timedelta(minutes=minutes))

    def events(kind: str) -> int:
        return _count(db, select(func.count()).where(TicketEvent.kind == kind))

    assert events("sla_warning") == TICKETS
    assert events("sla_breached") == TICKETS
    assert events("rule_fired") == 2 * TICKETS  # the breach rule and the time rule
    assert _count(db, select(func.count()).select_from(Notification)) == TICKETS
