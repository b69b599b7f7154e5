"""``time_elapsed`` rules: table-driven conditions, validation, and the periodic scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from socialdesk.automation.elapsed import time_facts
from socialdesk.automation.rules import conditions_hold, validate_rule
from socialdesk.automation.step import run_sla_cycle
from socialdesk.config import Settings
from socialdesk.pipeline.build import build_pipeline
from socialdesk.store.db import Database
from socialdesk.store.models import TicketEvent
from tests.automation.test_automation_db import add_rule
from tests.pipeline.helpers import T0, ingest, make_account, post
from tests.sla.helpers import add_policy, ticket_of

PIPELINE = build_pipeline(Settings())
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SILENT_2H = {"field": "minutes_since_last_customer_message", "op": "gte", "value": 120}


def _ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("conditions", "last_customer", "status_changed", "expected"),
    [
        ([SILENT_2H], _ago(120), _ago(5), True),  # exactly at the threshold
        ([SILENT_2H], _ago(119.9), _ago(500), False),  # 119 whole minutes
        ([SILENT_2H], None, _ago(500), False),  # the customer never wrote
        ([{**SILENT_2H, "op": "gt"}], _ago(120), None, False),
        ([{**SILENT_2H, "op": "gt"}], _ago(121), None, True),
        (
            [{"field": "minutes_since_status_change", "op": "gte", "value": 60 * 24}],
            _ago(10),
            _ago(60 * 24 + 1),
            True,
        ),
        (
            [{"field": "minutes_since_status_change", "op": "gte", "value": 60 * 24}],
            _ago(10),
            _ago(60 * 23),
            False,
        ),
        (  # a window: silent for 2 hours but not yet a day
            [
                SILENT_2H,
                {"field": "minutes_since_last_customer_message", "op": "lt", "value": 1440},
            ],
            _ago(2000),
            None,
            False,
        ),
        (
            [
                SILENT_2H,
                {"field": "minutes_since_last_customer_message", "op": "lt", "value": 1440},
            ],
            _ago(300),
            None,
            True,
        ),
    ],
)
def test_time_conditions(
    conditions: list[dict[str, Any]],
    last_customer: datetime | None,
    status_changed: datetime | None,
    expected: bool,
) -> None:
    facts = time_facts(NOW, last_customer, status_changed)
    assert conditions_hold(conditions, facts) is expected


@pytest.mark.parametrize(
    ("event", "conditions", "actions", "error"),
    [
        ("time_elapsed", [], [{"type": "add_tag", "tag": "x"}], "minutes_since_"),
        (
            "time_elapsed",
            [{**SILENT_2H, "op": "lte"}],
            [{"type": "add_tag", "tag": "x"}],
            "gte or gt",
        ),
        ("ticket_created", [SILENT_2H], [{"type": "add_tag", "tag": "x"}], "time_elapsed"),
        ("time_elapsed", [SILENT_2H], [{"type": "set_status", "status": "closed"}], "status"),
    ],
)
def test_time_rules_are_validated(
    event: str, conditions: list[Any], actions: list[Any], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        validate_rule(event, conditions, actions)


def _fired(db: Database, ticket_id: int) -> list[str]:
    with db.session() as s:
        rows = s.scalars(
            select(TicketEvent.data).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "rule_fired"
            )
        )
        return [d["rule"] for d in rows]


def test_pending_tickets_are_solved_after_two_hours_of_silence_once(db: Database) -> None:
    add_policy(db, calendar=None)
    add_rule(
        db,
        name="auto-solve silent pending tickets",
        event="time_elapsed",
        conditions=[{"field": "status", "op": "is", "value": "pending"}, SILENT_2H],
        actions=[{"type": "set_status", "status": "solved"}, {"type": "add_tag", "tag": "auto"}],
    )
    add_rule(
        db,
        name="still open after 3 hours",
        event="time_elapsed",
        conditions=[
            {"field": "status", "op": "in", "value": ["new", "open"]},
            {"field": "minutes_since_status_change", "op": "gte", "value": 180},
        ],
        actions=[{"type": "set_priority", "priority": "high"}],
    )
    acct = make_account(db)
    ingest(db, post(acct, "1", "@AcmeSupport where is my parcel"), pipeline=PIPELINE)
    ingest(
        db,
        post(acct, "2", "@sam sent it!", outbound=True, reply_to="1", minutes=5),
        pipeline=PIPELINE,
    )
    ingest(db, post(acct, "3", "@AcmeSupport app broken", author="9", minutes=1), pipeline=PIPELINE)
    pending, waiting = ticket_of(db, "1"), ticket_of(db, "3")
    assert pending.status == "pending" and waiting.status == "new"

    run_sla_cycle(db, T0 + timedelta(minutes=119))
    assert _fired(db, pending.id) == [] and _fired(db, waiting.id) == []

    run_sla_cycle(db, T0 + timedelta(minutes=121))
    pending = ticket_of(db, "1")
    assert pending.status == "solved" and pending.resolution_due_at is None
    assert _fired(db, pending.id) == ["auto-solve silent pending tickets"]
    assert _fired(db, waiting.id) == []

    for minutes in (181, 182, 600):
        run_sla_cycle(db, T0 + timedelta(minutes=minutes))
    assert _fired(db, pending.id) == ["auto-solve silent pending tickets"]
    assert _fired(db, waiting.id) == ["still open after 3 hours"]
    assert ticket_of(db, "3").priority == "high"
    with db.session() as s:
        kinds = list(s.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == pending.id)))
    assert "sla_fulfilled" in kinds and kinds.count("status_changed") == 2
