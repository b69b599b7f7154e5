from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from socialdesk.domain.business_hours import BusinessCalendar
from socialdesk.domain.enums import TicketEventKind as K
from socialdesk.domain.sla_clock import SlaTarget
from socialdesk.sla.clocks import ClockStatus
from socialdesk.sla.policies import PolicySpec
from socialdesk.sla.tracker import TicketClocks

MON = datetime(2025, 3, 3, tzinfo=UTC)
TARGETS = (
    {
        "channel": None,
        "priority": None,
        "first_response_minutes": 60,
        "next_response_minutes": 30,
        "resolution_minutes": 480,
    },
)


def policy(pause_on_hold: bool = False) -> PolicySpec:
    cal = BusinessCalendar.office_hours("UTC", time(9), time(17))
    return PolicySpec(7, 1, "default", frozenset(), TARGETS, cal, pause_on_hold=pause_on_hold)


def h(hours: float) -> datetime:
    return MON + timedelta(hours=hours)


def test_created_starts_first_response_and_resolution() -> None:
    tracker = TicketClocks(policy(), "x", "normal")
    tracker.created(h(10))
    tracker.customer_message(h(10))  # the opening post itself: nothing new
    assert [n.kind for n in tracker.notes] == [K.SLA_STARTED, K.SLA_STARTED]
    assert tracker.due_times() == {
        "first_response_due_at": h(11),
        "next_response_due_at": None,
        "resolution_due_at": h(24 + 10),  # 7 h on Monday, the 8th by 10:00 on Tuesday
    }


@pytest.mark.parametrize(
    ("steps", "expected_kinds", "active"),
    [
        (
            [("reply", 10.5), ("message", 11)],
            [K.SLA_FULFILLED, K.SLA_STARTED],
            {SlaTarget.NEXT_RESPONSE, SlaTarget.RESOLUTION},
        ),
        (
            [
                ("reply", 10.5),
                ("status", "open", "pending", 10.5),
                ("status", "pending", "open", 12),
            ],
            [K.SLA_FULFILLED, K.SLA_PAUSED, K.SLA_RESUMED],
            {SlaTarget.RESOLUTION},
        ),
        (
            [("status", "open", "on_hold", 11)],
            [],
            {SlaTarget.FIRST_RESPONSE, SlaTarget.RESOLUTION},
        ),
        (
            [("status", "open", "solved", 11), ("status", "solved", "open", 12)],
            [K.SLA_FULFILLED, K.SLA_FULFILLED, K.SLA_STARTED],
            {SlaTarget.RESOLUTION},
        ),
        (
            [("reply", 12)],  # an hour late
            [K.SLA_BREACHED, K.SLA_FULFILLED],
            {SlaTarget.RESOLUTION},
        ),
    ],
)
def test_ticket_changes_drive_the_clocks(
    steps: list[tuple[object, ...]], expected_kinds: list[K], active: set[SlaTarget]
) -> None:
    tracker = TicketClocks(policy(), "x", "normal")
    tracker.created(h(10))
    tracker.notes.clear()
    for step in steps:
        if step[0] == "reply":
            tracker.agent_reply(h(step[1]))  # type: ignore[arg-type]
        elif step[0] == "message":
            tracker.customer_message(h(step[1]))  # type: ignore[arg-type]
        else:
            tracker.status_changed(str(step[1]), str(step[2]), h(step[3]))  # type: ignore[arg-type]
    assert [n.kind for n in tracker.notes] == expected_kinds
    running_or_paused = {c.target for c in tracker.clocks if c.status != ClockStatus.FULFILLED}
    assert running_or_paused == active


def test_on_hold_pauses_when_the_policy_says_so() -> None:
    tracker = TicketClocks(policy(pause_on_hold=True), "x", "normal")
    tracker.created(h(10))
    tracker.status_changed("open", "on_hold", h(10.5))
    assert {c.status for c in tracker.clocks} == {ClockStatus.PAUSED}
    assert tracker.due_times()["first_response_due_at"] is None


def test_reopen_starts_a_second_resolution_cycle() -> None:
    tracker = TicketClocks(policy(), "x", "normal")
    tracker.created(h(10))
    tracker.status_changed("open", "solved", h(11))
    tracker.status_changed("solved", "open", h(12))
    cycles = sorted(c.cycle for c in tracker.clocks if c.target == SlaTarget.RESOLUTION)
    assert cycles == [1, 2]
