"""Random event sequences never give negative or double-counted SLA time, and the stored
incremental clock always agrees with the pure fold of ``domain/sla_clock``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk.domain.business_hours import BusinessCalendar, business_time_between
from socialdesk.domain.sla_clock import ClockEvent, SlaTarget, evaluate_clock
from socialdesk.sla.clocks import ClockStatus, fulfil_clock, pause_clock, resume_clock, start_clock

CALENDARS = [
    BusinessCalendar.always(),
    BusinessCalendar.office_hours("America/New_York", time(9), time(17), country="US"),
    BusinessCalendar.weekly("Europe/Berlin", {0: [(time(22), time(6))], 2: [(time(8), time(12))]}),
]
START = datetime(2025, 3, 6, 15, tzinfo=UTC)  # a week around the US DST change
OPS = st.lists(
    st.tuples(st.sampled_from(["pause", "resume", "fulfil"]), st.integers(0, 60 * 24 * 5)),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(
    calendar=st.sampled_from(CALENDARS),
    target_minutes=st.integers(1, 60 * 30),
    ops=OPS,
    now_minutes=st.integers(0, 60 * 24 * 6),
)
def test_incremental_clock_matches_the_fold(
    calendar: BusinessCalendar, target_minutes: int, ops: list[tuple[str, int]], now_minutes: int
) -> None:
    duration = timedelta(minutes=target_minutes)
    now = START + timedelta(minutes=now_minutes)
    timed = sorted(
        ((kind, START + timedelta(minutes=m)) for kind, m in ops if m <= now_minutes),
        key=lambda item: (item[1], ["pause", "resume", "fulfil"].index(item[0])),
    )
    clock = start_clock(calendar, SlaTarget.RESOLUTION, duration, START)
    events = [ClockEvent.start(START, SlaTarget.RESOLUTION, duration)]
    for kind, at in timed:
        {"pause": pause_clock, "resume": resume_clock, "fulfil": fulfil_clock}[kind](
            calendar, clock, at
        )
        events.append(getattr(ClockEvent, kind)(at))
    folded = evaluate_clock(calendar, events, now)
    elapsed = clock.elapsed_at(calendar, now)

    assert elapsed >= timedelta(0)
    assert elapsed <= business_time_between(calendar, START, now)  # never double counted
    assert abs(elapsed - folded.elapsed) < timedelta(milliseconds=1)
    breached_now = clock.breached or (
        clock.status == ClockStatus.RUNNING and clock.due_at is not None and clock.due_at < now
    )
    assert breached_now == folded.breached
    if clock.status == ClockStatus.RUNNING and not clock.breached:
        assert clock.due_at == folded.due_at
    assert (clock.status == ClockStatus.FULFILLED) == (folded.fulfilled_at is not None)
