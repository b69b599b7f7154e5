from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from socialdesk.domain.business_hours import BusinessCalendar
from socialdesk.domain.sla_clock import SlaTarget
from socialdesk.sla.clocks import (
    Change,
    ClockStatus,
    fulfil_clock,
    mark_notice,
    pause_clock,
    resume_clock,
    start_clock,
)

# Mon 2025-03-03 is a Monday; office 09:00-17:00 UTC.
OFFICE = BusinessCalendar.office_hours("UTC", time(9), time(17))
ALWAYS = BusinessCalendar.always()
MON = datetime(2025, 3, 3, tzinfo=UTC)


def at(day: int, hour: float) -> datetime:
    return MON + timedelta(days=day, hours=hour)


@pytest.mark.parametrize(
    ("cal", "start", "hours", "due", "warning"),
    [
        (ALWAYS, at(0, 10), 4, at(0, 14), at(0, 13)),
        (OFFICE, at(0, 10), 4, at(0, 14), at(0, 13)),
        (OFFICE, at(0, 15), 4, at(1, 11), at(1, 10)),  # runs over the night
        (OFFICE, at(0, 20), 1, at(1, 10), at(1, 9.75)),  # out of hours: next morning
        (OFFICE, at(4, 16), 2, at(7, 10), at(7, 9.5)),  # Friday afternoon → Monday
    ],
)
def test_start_projects_due_and_warning(
    cal: BusinessCalendar, start: datetime, hours: float, due: datetime, warning: datetime
) -> None:
    clock = start_clock(cal, SlaTarget.FIRST_RESPONSE, timedelta(hours=hours), start)
    assert (clock.due_at, clock.warning_at, clock.next_check_at) == (due, warning, warning)


def test_pause_stops_time_and_resume_moves_the_deadline() -> None:
    clock = start_clock(OFFICE, SlaTarget.RESOLUTION, timedelta(hours=4), at(0, 9))
    assert pause_clock(OFFICE, clock, at(0, 10)) == [Change.PAUSED]
    assert clock.status == ClockStatus.PAUSED and clock.due_at is None
    assert clock.next_check_at is None and clock.elapsed == timedelta(hours=1)
    assert pause_clock(OFFICE, clock, at(0, 11)) == []  # second pause ignored
    assert resume_clock(OFFICE, clock, at(1, 9)) == [Change.RESUMED]
    assert clock.due_at == at(1, 12)
    assert resume_clock(OFFICE, clock, at(1, 10)) == []  # second resume ignored
    assert fulfil_clock(OFFICE, clock, at(1, 12)) == [Change.FULFILLED]  # on the dot: on time
    assert not clock.breached and clock.elapsed == timedelta(hours=4)
    assert fulfil_clock(OFFICE, clock, at(1, 13)) == []


@pytest.mark.parametrize(
    ("op", "expected_status"),
    [(fulfil_clock, ClockStatus.FULFILLED), (pause_clock, ClockStatus.PAUSED)],
)
def test_late_transition_records_the_breach(op: object, expected_status: ClockStatus) -> None:
    clock = start_clock(ALWAYS, SlaTarget.FIRST_RESPONSE, timedelta(hours=1), at(0, 9))
    changes = op(ALWAYS, clock, at(0, 11))  # type: ignore[operator]
    assert changes[0] == Change.BREACHED
    assert clock.breached and clock.breached_at == at(0, 10) and clock.status == expected_status


def test_transition_times_never_run_backwards() -> None:
    clock = start_clock(ALWAYS, SlaTarget.FIRST_RESPONSE, timedelta(hours=1), at(0, 9))
    pause_clock(ALWAYS, clock, at(0, 8))  # an event older than the start
    assert clock.elapsed == timedelta(0)
    resume_clock(ALWAYS, clock, at(0, 7))
    assert clock.running_since == at(0, 9)
    fulfil_clock(ALWAYS, clock, at(0, 8))
    assert clock.elapsed == timedelta(0) and clock.fulfilled_at == at(0, 9)


def test_scan_notices_move_the_next_check() -> None:
    clock = start_clock(ALWAYS, SlaTarget.FIRST_RESPONSE, timedelta(hours=4), at(0, 9))
    assert clock.next_check_at == at(0, 12)
    mark_notice(clock, "warning")
    assert clock.next_check_at == at(0, 13)
    mark_notice(clock, "breach")
    assert clock.breached and clock.next_check_at is None
