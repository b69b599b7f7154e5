"""Property tests: SLA clocks over random, duplicated and shuffled event histories."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk.domain.business_hours import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
    is_business_time,
    next_business_start,
)
from socialdesk.domain.sla_clock import (
    ClockEvent,
    ClockEventKind,
    ClockStatus,
    SlaTarget,
    evaluate_clock,
)

PROPERTY = settings(max_examples=200, deadline=None)

CALENDARS = [
    BusinessCalendar.weekly(
        "Europe/Berlin", {d: [(time(9), time(12)), (time(13), time(17))] for d in range(5)}
    ),
    BusinessCalendar.office_hours("America/New_York", country="US"),
    BusinessCalendar.office_hours("America/New_York", weekdays=range(7)),
    BusinessCalendar.always("Europe/Berlin"),
    BusinessCalendar.weekly("Europe/Berlin", {d: [(time(22), time(6))] for d in range(7)}),
    BusinessCalendar.weekly(
        "Europe/Berlin", {6: [(time(2, 30), time(5))], 2: [(time(10), time(11))]}
    ),
]

# Three weeks around the 2024 spring-forward in Europe (Mar 31) and the US (Mar 10) is too
# far apart for one window, so draw from both, and from the autumn fall-back weeks.
BASES = [
    datetime(2024, 3, 4, tzinfo=UTC),
    datetime(2024, 3, 25, tzinfo=UTC),
    datetime(2024, 10, 21, tzinfo=UTC),
    datetime(2024, 6, 28, tzinfo=UTC),  # US Independence Day
]
SPAN_SECONDS = 21 * 24 * 3600

calendars = st.sampled_from(CALENDARS)
bases = st.sampled_from(BASES)
offsets = st.integers(min_value=0, max_value=SPAN_SECONDS)
targets = st.integers(min_value=0, max_value=3 * 24 * 60).map(lambda m: timedelta(minutes=m))


@st.composite
def histories(draw: st.DrawFn) -> tuple[datetime, list[ClockEvent]]:
    """A base instant and a random, duplicated, shuffled event list after it."""
    base = draw(bases)
    kind_list = draw(st.lists(st.sampled_from(list(ClockEventKind)), max_size=12))
    target = draw(st.sampled_from(list(SlaTarget)))
    events: list[ClockEvent] = []
    for kind in kind_list:
        at = base + timedelta(seconds=draw(offsets))
        if kind is ClockEventKind.START:
            events.append(ClockEvent.start(at, target, draw(targets)))
        else:
            events.append(ClockEvent(kind, at))
    duplicates = draw(st.lists(st.sampled_from(events), max_size=4)) if events else []
    return base, draw(st.permutations(events + duplicates))


def _first_start(events: list[ClockEvent], now: datetime) -> ClockEvent | None:
    starts = [e for e in events if e.kind is ClockEventKind.START and e.at <= now]
    return min(starts, key=lambda e: (e.at, e.duration), default=None)


@PROPERTY
@given(calendars, histories(), offsets)
def test_elapsed_is_bounded_and_never_double_counted(
    cal: BusinessCalendar, history: tuple[datetime, list[ClockEvent]], now_offset: int
) -> None:
    base, events = history
    now = base + timedelta(seconds=now_offset)
    state = evaluate_clock(cal, events, now)
    assert state.elapsed >= timedelta(0)
    first = _first_start(events, now)
    if first is None:
        assert state.status is ClockStatus.NOT_STARTED
        assert state.elapsed == timedelta(0)
        return
    assert state.started_at == first.at
    assert state.elapsed <= now - first.at
    assert state.elapsed <= business_time_between(cal, first.at, now)


@PROPERTY
@given(calendars, histories(), offsets, offsets)
def test_elapsed_is_monotone_in_now(
    cal: BusinessCalendar, history: tuple[datetime, list[ClockEvent]], a: int, b: int
) -> None:
    base, events = history
    early, late = sorted((a, b))
    before = evaluate_clock(cal, events, base + timedelta(seconds=early))
    after = evaluate_clock(cal, events, base + timedelta(seconds=late))
    assert before.elapsed <= after.elapsed
    # Breaches and warnings, once they happened, stay in the past unchanged.
    if before.breached:
        assert after.breached_at == before.breached_at
    if before.warned:
        assert after.warning_at == before.warning_at


@PROPERTY
@given(calendars, histories(), offsets, st.randoms(use_true_random=False))
def test_order_and_duplicates_do_not_matter(
    cal: BusinessCalendar,
    history: tuple[datetime, list[ClockEvent]],
    now_offset: int,
    rnd: random.Random,
) -> None:
    base, events = history
    now = base + timedelta(seconds=now_offset)
    replayed = events * 2
    rnd.shuffle(replayed)
    assert evaluate_clock(cal, replayed, now) == evaluate_clock(cal, events, now)


@PROPERTY
@given(calendars, histories(), offsets)
def test_deadlines_agree_with_elapsed(
    cal: BusinessCalendar, history: tuple[datetime, list[ClockEvent]], now_offset: int
) -> None:
    base, events = history
    now = base + timedelta(seconds=now_offset)
    state = evaluate_clock(cal, events, now)
    if state.status is ClockStatus.NOT_STARTED:
        return
    assert state.target_duration is not None and state.started_at is not None
    if state.breached:
        assert state.elapsed >= state.target_duration
        assert state.breached_at == state.due_at
        assert state.warned
    if state.elapsed > state.target_duration:
        assert state.breached
    if state.warning_at is not None and state.due_at is not None:
        assert state.warning_at <= state.due_at
    if state.status is ClockStatus.RUNNING and state.elapsed < state.target_duration:
        # due = start + target + business time spent paused, in business time.
        paused = business_time_between(cal, state.started_at, now) - state.elapsed
        expected = add_business_time(cal, state.started_at, state.target_duration + paused)
        assert state.due_at == expected
        assert state.due_at >= now
    if state.status is ClockStatus.PAUSED and not state.breached:
        assert state.due_at is None


@PROPERTY
@given(calendars, bases, offsets, targets)
def test_add_and_between_are_inverse(
    cal: BusinessCalendar, base: datetime, offset: int, duration: timedelta
) -> None:
    start = base + timedelta(seconds=offset)
    due = add_business_time(cal, start, duration)
    assert due >= start
    assert business_time_between(cal, start, due) == duration
    if duration:
        # Nothing earlier would do: the due time is the first instant the duration is used up.
        assert business_time_between(cal, start, due - timedelta(microseconds=1)) < duration


@PROPERTY
@given(calendars, bases, offsets, offsets, offsets)
def test_between_is_additive_and_bounded(
    cal: BusinessCalendar, base: datetime, a: int, b: int, c: int
) -> None:
    first, middle, last = (base + timedelta(seconds=s) for s in sorted((a, b, c)))
    whole = business_time_between(cal, first, last)
    assert whole == business_time_between(cal, first, middle) + business_time_between(
        cal, middle, last
    )
    assert timedelta(0) <= whole <= last - first


@PROPERTY
@given(calendars, bases, offsets)
def test_instant_checks_agree_with_measure(
    cal: BusinessCalendar, base: datetime, offset: int
) -> None:
    at = base + timedelta(seconds=offset)
    tick = timedelta(microseconds=1)
    assert is_business_time(cal, at) == (business_time_between(cal, at, at + tick) == tick)
    opens = next_business_start(cal, at)
    assert opens >= at
    assert is_business_time(cal, opens)
    assert business_time_between(cal, at, opens) == timedelta(0)
