"""A priority change moves running SLA clocks to the new target: the pure recomputation
(table-driven) and the API (PATCH /api/v1/tickets/{id} priority moves the due time)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest

from socialdesk.automation.step import run_sla_cycle
from socialdesk.config import Settings
from socialdesk.domain.business_hours import BusinessCalendar
from socialdesk.domain.sla_clock import SlaTarget
from socialdesk.sla.clocks import (
    ClockStatus,
    mark_notice,
    pause_clock,
    retarget_clock,
    start_clock,
)
from socialdesk.sla.policies import PolicySpec
from socialdesk.sla.tracker import TicketClocks
from socialdesk.store.db import Database, utcnow
from socialdesk.wiring.pipeline import build_pipeline
from tests.api.conftest import Api
from tests.automation.test_automation_db import add_rule
from tests.pipeline.helpers import T0, ingest, make_account, post
from tests.sla.helpers import add_policy, events_of, ticket_of

# Mon 2025-03-03; office 09:00-17:00 UTC.
OFFICE = BusinessCalendar.office_hours("UTC", time(9), time(17))
ALWAYS = BusinessCalendar.always()
MON = datetime(2025, 3, 3, tzinfo=UTC)
H = timedelta(hours=1)


def at(day: int, hour: float) -> datetime:
    return MON + timedelta(days=day, hours=hour)


@pytest.mark.parametrize(
    ("case", "cal", "old_h", "pause", "change_at", "new_h", "due", "warned", "status"),
    [
        # Shorter target: the 1 h already spent counts against it.
        ("shorter", OFFICE, 4, None, at(0, 10), 2, at(0, 11), False, ClockStatus.RUNNING),
        # Longer target, from the start in business time (over the night).
        ("longer", OFFICE, 4, None, at(0, 10), 10, at(1, 11), False, ClockStatus.RUNNING),
        # Already past the new target: due lies in the past; the scan records the breach.
        ("overdue", ALWAYS, 8, None, at(0, 12), 2, at(0, 11), False, ClockStatus.RUNNING),
        # Warned under the old target (3 h of 4 spent), not under the new 8 h: withdrawn.
        ("unwarn", ALWAYS, 4, None, at(0, 12.5), 8, at(0, 17), False, ClockStatus.RUNNING),
        # Still past the new warning share: the warning stands.
        ("still warned", ALWAYS, 4, None, at(0, 12.5), 3.5, at(0, 12.5), True, ClockStatus.RUNNING),
        # Paused 10:00-12:00 (1 h spent): no due while paused, new target kept for resume.
        ("paused", OFFICE, 4, (at(0, 10), None), at(0, 11), 2, None, False, ClockStatus.PAUSED),
    ],
)
def test_retarget_recomputes_from_the_start_keeping_time_spent(
    case: str,
    cal: BusinessCalendar,
    old_h: float,
    pause: tuple[datetime, datetime | None] | None,
    change_at: datetime,
    new_h: float,
    due: datetime | None,
    warned: bool,
    status: ClockStatus,
) -> None:
    clock = start_clock(cal, SlaTarget.FIRST_RESPONSE, old_h * H, at(0, 9))
    if case in ("unwarn", "still warned"):
        mark_notice(clock, "warning")  # the scan warned at 12:00
    if pause is not None:
        pause_clock(cal, clock, pause[0])
    moved = retarget_clock(cal, clock, new_h * H, change_at)
    assert moved is not None and moved.new_duration == new_h * H
    assert (clock.due_at, clock.warned, clock.status) == (due, warned, status)
    assert moved.new_due_at == due and not moved.kept_breached
    assert clock.duration == new_h * H and not clock.breached


def test_pausing_keeps_the_new_target_and_resume_projects_it() -> None:
    from socialdesk.sla.clocks import resume_clock

    clock = start_clock(OFFICE, SlaTarget.RESOLUTION, 4 * H, at(0, 9))
    pause_clock(OFFICE, clock, at(0, 10))
    retarget_clock(OFFICE, clock, 2 * H, at(0, 11))
    resume_clock(OFFICE, clock, at(0, 13))
    assert clock.due_at == at(0, 14)  # 1 h spent before the pause, 1 h left


def test_breached_clock_stays_breached_with_its_due() -> None:
    clock = start_clock(ALWAYS, SlaTarget.FIRST_RESPONSE, 1 * H, at(0, 9))
    mark_notice(clock, "breach")
    moved = retarget_clock(ALWAYS, clock, 8 * H, at(0, 12))
    assert moved is not None and moved.kept_breached
    assert (moved.old_due_at, moved.new_due_at) == (at(0, 10), at(0, 10))
    assert clock.breached and clock.due_at == at(0, 10) and clock.next_check_at is None


@pytest.mark.parametrize("new_h", [4, None])
def test_same_target_or_fulfilled_changes_nothing(new_h: float | None) -> None:
    clock = start_clock(ALWAYS, SlaTarget.FIRST_RESPONSE, 4 * H, at(0, 9))
    if new_h is None:
        from socialdesk.sla.clocks import fulfil_clock

        fulfil_clock(ALWAYS, clock, at(0, 10))
    assert retarget_clock(ALWAYS, clock, (new_h or 1) * H, at(0, 10)) is None


def _policy(targets: list[dict[str, object]]) -> PolicySpec:
    return PolicySpec(1, 1, "p", frozenset(), tuple(targets), ALWAYS)


def test_tracker_records_one_event_per_moved_clock_and_keeps_unmeasured_targets() -> None:
    rows: list[dict[str, object]] = [
        {"channel": None, "priority": None, "first_response_minutes": 240,
         "resolution_minutes": 2880},
        {"channel": None, "priority": "urgent", "first_response_minutes": 30},
    ]  # fmt: skip
    tracker = TicketClocks(_policy(rows), "x", "normal")
    tracker.created(at(0, 9))
    tracker.priority = "urgent"
    tracker.notes.clear()
    tracker.retarget(at(0, 9.25), "normal")
    [note] = tracker.notes  # resolution: the urgent row does not measure it, kept at 48 h
    assert note.data["target"] == "first_response" and note.data["to_minutes"] == 30
    assert note.data["old_due_at"] == at(0, 13).isoformat()
    assert note.data["new_due_at"] == at(0, 9.5).isoformat()
    assert note.data["priority"] == {"from": "normal", "to": "urgent"}
    assert tracker.due_times()["resolution_due_at"] == at(2, 9)


TARGETS = [
    {"channel": None, "priority": None, "first_response_minutes": 240,
     "next_response_minutes": 240, "resolution_minutes": 2880},
    {"channel": None, "priority": "urgent", "first_response_minutes": 30,
     "next_response_minutes": 30, "resolution_minutes": 480},
]  # fmt: skip


def _due(ticket: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(ticket["first_response_due_at"]))


def test_patch_priority_moves_the_due_time(api: Api, admin: httpx.Client) -> None:
    assert admin.post("/sla/policies", json={"name": "24/7", "targets": TARGETS}).is_success
    acct = make_account(api.db)
    created = utcnow().replace(microsecond=0) - timedelta(minutes=10)
    message = replace(post(acct, "r1", "my order is missing"), created_at=created)
    ingest(api.db, message, pipeline=build_pipeline(Settings()))
    ticket_id = admin.get("/tickets").json()["data"][0]["id"]
    before = admin.get(f"/tickets/{ticket_id}").json()
    assert _due(before) == created + timedelta(minutes=240)

    r = admin.patch(f"/tickets/{ticket_id}", json={"priority": "urgent"})
    assert r.status_code == 200, r.text
    assert _due(r.json()) == created + timedelta(minutes=30)  # 10 min spent are kept
    events = [
        e for e in admin.get(f"/tickets/{ticket_id}/events").json() if e["kind"] == "sla_retargeted"
    ]
    by_target = {e["data"]["target"]: e["data"] for e in events}
    assert set(by_target) == {"first_response", "resolution"}
    first = by_target["first_response"]
    assert datetime.fromisoformat(first["old_due_at"]) == created + timedelta(minutes=240)
    assert datetime.fromisoformat(first["new_due_at"]) == created + timedelta(minutes=30)
    assert first["breached"] is False and first["priority"] == {"from": "normal", "to": "urgent"}

    back = admin.patch(f"/tickets/{ticket_id}", json={"priority": "normal"}).json()
    assert _due(back) == created + timedelta(minutes=240)


RULE_PIPELINE = build_pipeline(Settings())
RULE_TARGETS = [
    {"channel": None, "priority": None, "first_response_minutes": 240,
     "next_response_minutes": 240, "resolution_minutes": 2880},
    {"channel": None, "priority": "high", "first_response_minutes": 120,
     "next_response_minutes": 60, "resolution_minutes": 1440},
    {"channel": None, "priority": "urgent", "first_response_minutes": 30,
     "next_response_minutes": 30, "resolution_minutes": 480},
]  # fmt: skip


def test_rules_that_raise_the_priority_move_the_clocks(db: Database) -> None:
    """A pipeline rule (customer writes again) and a periodic rule (escalate after 60
    minutes of silence) both re-target; the pure fold stays the source of truth."""
    add_policy(db, calendar=None, targets=RULE_TARGETS)
    add_rule(
        db,
        name="angry",
        event="customer_message",
        conditions=[{"field": "text", "op": "contains", "value": "lawyer"}],
        actions=[{"type": "set_priority", "priority": "high"}],
    )
    add_rule(
        db,
        name="silence",
        event="time_elapsed",
        conditions=[{"field": "minutes_since_last_customer_message", "op": "gte", "value": 60}],
        actions=[{"type": "escalate"}],
    )
    acct = make_account(db)
    ingest(db, post(acct, "a1", "where is my parcel"), pipeline=RULE_PIPELINE)
    ingest(db, post(acct, "a2", "my lawyer says", reply_to="a1", minutes=5), pipeline=RULE_PIPELINE)
    ticket = ticket_of(db, "a1")
    assert ticket.priority == "high"
    moved = [d for k, d in events_of(db, ticket.id) if k == "sla_retargeted"]
    assert {(d["target"], d["to_minutes"]) for d in moved} == {
        ("first_response", 120),
        ("resolution", 1440),
    }
    assert ticket.first_response_due_at == T0 + timedelta(minutes=120)
    run_sla_cycle(db, T0 + timedelta(minutes=70))
    ticket = ticket_of(db, "a1")
    assert ticket.priority == "urgent"
    moved = [d for k, d in events_of(db, ticket.id) if k == "sla_retargeted"][2:]
    assert {(d["target"], d["to_minutes"]) for d in moved} == {
        ("first_response", 30),
        ("resolution", 480),
    }
    first = next(d for d in moved if d["target"] == "first_response")
    assert first["old_due_at"] == (T0 + timedelta(minutes=120)).isoformat()
    assert first["new_due_at"] == (T0 + timedelta(minutes=30)).isoformat()
    assert ticket.first_response_due_at == T0 + timedelta(minutes=30)  # already past
    run_sla_cycle(db, T0 + timedelta(minutes=71))  # the next scan records the breach
    breaches = [d for k, d in events_of(db, ticket.id) if k == "sla_breached"]
    assert [d["target"] for d in breaches] == ["first_response"]
