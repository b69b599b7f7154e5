from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest

from socialdesk.domain.business_hours import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
    is_business_time,
    next_business_start,
)

H = timedelta(hours=1)
M = timedelta(minutes=1)

NY = BusinessCalendar.office_hours("America/New_York", country="US")
NY_PLAIN = BusinessCalendar.office_hours("America/New_York")
BERLIN = BusinessCalendar.office_hours("Europe/Berlin")
LUNCH = BusinessCalendar.weekly(
    "Europe/Berlin", {d: [(time(9), time(12)), (time(13), time(17))] for d in range(5)}
)
# 09:00-17:00 every day, so that the (Sunday) DST change days are business days.
SEVEN_NY = BusinessCalendar.office_hours("America/New_York", weekdays=range(7))
SEVEN_BERLIN = BusinessCalendar.office_hours("Europe/Berlin", weekdays=range(7))
ALWAYS_UTC = BusinessCalendar.always()
ALWAYS_BERLIN = BusinessCalendar.always("Europe/Berlin")
ALWAYS_NY = BusinessCalendar.always("America/New_York")
ALWAYS_US = BusinessCalendar.always("America/New_York", country="US")
CUSTOM = BusinessCalendar.office_hours("Europe/Berlin", custom_holidays=[date(2024, 6, 12)])
NIGHT = BusinessCalendar.weekly("Europe/Berlin", {d: [(time(22), time(6))] for d in range(7)})
# Sunday-only intervals whose bounds sit around/inside the Berlin DST gap and fold.
SUN_EARLY = BusinessCalendar.weekly("Europe/Berlin", {6: [(time(1), time(4))]})
SUN_GAP = BusinessCalendar.weekly("Europe/Berlin", {6: [(time(2, 30), time(5))]})
BAVARIA = BusinessCalendar.office_hours("Europe/Berlin", country="DE", subdivision="BY")
BERLIN_STATE = BusinessCalendar.office_hours("Europe/Berlin", country="DE", subdivision="BE")


def t(text: str) -> datetime:
    """An ISO timestamp with explicit offset, so DST-day instants are unambiguous."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None
    return value


@pytest.mark.parametrize(
    ("cal", "start", "duration", "due"),
    [
        # Weekends.
        (NY_PLAIN, "2024-06-07T16:00-04:00", 2 * H, "2024-06-10T10:00-04:00"),
        (NY_PLAIN, "2024-06-08T12:00-04:00", H, "2024-06-10T10:00-04:00"),
        (NY_PLAIN, "2024-06-07T09:00-04:00", 40 * H, "2024-06-13T17:00-04:00"),
        # US holidays, including an observed one (2026-07-04 is a Saturday).
        (NY, "2024-07-03T16:00-04:00", 2 * H, "2024-07-05T10:00-04:00"),
        (NY_PLAIN, "2024-07-03T16:00-04:00", 2 * H, "2024-07-04T10:00-04:00"),
        (NY, "2024-11-27T16:30-05:00", H, "2024-11-29T09:30-05:00"),
        (NY, "2026-07-02T16:00-04:00", 2 * H, "2026-07-06T10:00-04:00"),
        # A custom day off (Wednesday 2024-06-12).
        (CUSTOM, "2024-06-11T16:00+02:00", 2 * H, "2024-06-13T10:00+02:00"),
        (CUSTOM, "2024-06-12T10:00+02:00", H, "2024-06-13T10:00+02:00"),
        # Posted at 23:59 the night before Christmas.
        (NY, "2024-12-24T23:59-05:00", H, "2024-12-26T10:00-05:00"),
        (ALWAYS_US, "2024-12-24T23:59-05:00", 2 * M, "2024-12-26T00:01-05:00"),
        (ALWAYS_US, "2024-12-24T23:59-05:00", M, "2024-12-25T00:00-05:00"),
        # Overnight posts.
        (NY_PLAIN, "2024-06-11T22:30-04:00", H, "2024-06-12T10:00-04:00"),
        (NY_PLAIN, "2024-06-12T03:00-04:00", 30 * M, "2024-06-12T09:30-04:00"),
        (NY_PLAIN, "2024-06-11T16:30-04:00", H, "2024-06-12T09:30-04:00"),
        # Lunch break.
        (LUNCH, "2024-06-11T11:30+02:00", H, "2024-06-11T13:30+02:00"),
        (LUNCH, "2024-06-11T11:00+02:00", H, "2024-06-11T12:00+02:00"),
        (LUNCH, "2024-06-11T12:15+02:00", H, "2024-06-11T14:00+02:00"),
        (LUNCH, "2024-06-11T16:30+02:00", 4 * H, "2024-06-12T13:30+02:00"),
        # 24/7.
        (ALWAYS_UTC, "2024-06-08T10:00+00:00", 30 * H, "2024-06-09T16:00+00:00"),
        (ALWAYS_BERLIN, "2024-03-31T01:30+01:00", H, "2024-03-31T03:30+02:00"),
        (ALWAYS_BERLIN, "2024-10-27T02:30+02:00", H, "2024-10-27T02:30+01:00"),
        # DST change days inside a 09:00-17:00 week: wall-clock opening hours still apply.
        (SEVEN_BERLIN, "2024-03-30T16:00+01:00", 2 * H, "2024-03-31T10:00+02:00"),
        (SEVEN_BERLIN, "2024-03-31T09:00+02:00", 8 * H, "2024-03-31T17:00+02:00"),
        (SEVEN_BERLIN, "2024-10-26T16:00+02:00", 2 * H, "2024-10-27T10:00+01:00"),
        (SEVEN_NY, "2024-03-09T16:00-05:00", 2 * H, "2024-03-10T10:00-04:00"),
        (SEVEN_NY, "2024-11-02T16:00-04:00", 2 * H, "2024-11-03T10:00-05:00"),
        # Overnight shift across the DST change: real hours, whatever the wall clock does.
        (NIGHT, "2024-03-30T23:00+01:00", 4 * H, "2024-03-31T04:00+02:00"),
        (NIGHT, "2024-10-26T23:00+02:00", 4 * H, "2024-10-27T02:00+01:00"),
        (NIGHT, "2024-06-11T05:30+02:00", H, "2024-06-11T22:30+02:00"),
        # Zero duration is due immediately, even out of hours.
        (NY_PLAIN, "2024-06-08T12:00-04:00", timedelta(0), "2024-06-08T12:00-04:00"),
    ],
)
def test_add_business_time(
    cal: BusinessCalendar, start: str, duration: timedelta, due: str
) -> None:
    result = add_business_time(cal, t(start), duration)
    assert result == t(due)
    assert result.tzinfo is UTC
    if duration:
        assert business_time_between(cal, t(start), result) == duration


@pytest.mark.parametrize(
    ("cal", "start", "end", "expected"),
    [
        (NY_PLAIN, "2024-06-10T00:00-04:00", "2024-06-17T00:00-04:00", 40 * H),
        (NY, "2024-07-01T00:00-04:00", "2024-07-08T00:00-04:00", 32 * H),
        (NY, "2024-12-24T23:59-05:00", "2024-12-26T00:00-05:00", timedelta(0)),
        (CUSTOM, "2024-06-12T00:00+02:00", "2024-06-13T00:00+02:00", timedelta(0)),
        (LUNCH, "2024-06-11T00:00+02:00", "2024-06-12T00:00+02:00", 7 * H),
        (LUNCH, "2024-06-11T11:45+02:00", "2024-06-11T13:15+02:00", 30 * M),
        # A 09:00-17:00 day is 8 hours on 23- and 25-hour days alike.
        (SEVEN_BERLIN, "2024-03-31T00:00+01:00", "2024-04-01T00:00+02:00", 8 * H),
        (SEVEN_BERLIN, "2024-10-27T00:00+02:00", "2024-10-28T00:00+01:00", 8 * H),
        (SEVEN_NY, "2024-03-10T00:00-05:00", "2024-03-11T00:00-04:00", 8 * H),
        (SEVEN_NY, "2024-11-03T00:00-04:00", "2024-11-04T00:00-05:00", 8 * H),
        # 24/7 counts the day's real length.
        (ALWAYS_BERLIN, "2024-03-31T00:00+01:00", "2024-04-01T00:00+02:00", 23 * H),
        (ALWAYS_BERLIN, "2024-10-27T00:00+02:00", "2024-10-28T00:00+01:00", 25 * H),
        (ALWAYS_NY, "2024-03-10T00:00-05:00", "2024-03-11T00:00-04:00", 23 * H),
        (ALWAYS_NY, "2024-11-03T00:00-04:00", "2024-11-04T00:00-05:00", 25 * H),
        (ALWAYS_US, "2024-12-24T00:00-05:00", "2024-12-27T00:00-05:00", 48 * H),
        # Intervals that straddle the transition, or start inside the gap / fold.
        (SUN_EARLY, "2024-03-31T00:00+01:00", "2024-04-01T00:00+02:00", 2 * H),
        (SUN_EARLY, "2024-10-27T00:00+02:00", "2024-10-28T00:00+01:00", 4 * H),
        (SUN_GAP, "2024-03-31T00:00+01:00", "2024-04-01T00:00+02:00", 2 * H),
        (SUN_GAP, "2024-10-27T00:00+02:00", "2024-10-28T00:00+01:00", 3 * H),
        (NIGHT, "2024-03-30T12:00+01:00", "2024-03-31T12:00+02:00", 7 * H),
        (NIGHT, "2024-10-26T12:00+02:00", "2024-10-27T12:00+01:00", 9 * H),
        # Corpus Christi is a holiday in Bavaria but not in the state of Berlin.
        (BAVARIA, "2024-05-30T00:00+02:00", "2024-05-31T00:00+02:00", timedelta(0)),
        (BERLIN_STATE, "2024-05-30T00:00+02:00", "2024-05-31T00:00+02:00", 8 * H),
        # Reversed or empty ranges are zero, never negative.
        (BERLIN, "2024-06-11T12:00+02:00", "2024-06-11T10:00+02:00", timedelta(0)),
        (BERLIN, "2024-06-11T12:00+02:00", "2024-06-11T12:00+02:00", timedelta(0)),
        (ALWAYS_UTC, "2024-06-11T12:00+00:00", "2024-06-11T10:00+00:00", timedelta(0)),
    ],
)
def test_business_time_between(
    cal: BusinessCalendar, start: str, end: str, expected: timedelta
) -> None:
    assert business_time_between(cal, t(start), t(end)) == expected


@pytest.mark.parametrize(
    ("cal", "at", "expected"),
    [
        (NY_PLAIN, "2024-06-10T09:00-04:00", True),
        (NY_PLAIN, "2024-06-10T08:59:59-04:00", False),
        (NY_PLAIN, "2024-06-10T16:59:59-04:00", True),
        (NY_PLAIN, "2024-06-10T17:00-04:00", False),
        (NY_PLAIN, "2024-06-08T12:00-04:00", False),
        (NY, "2024-07-04T12:00-04:00", False),
        (NY_PLAIN, "2024-07-04T12:00-04:00", True),
        (LUNCH, "2024-06-11T12:00+02:00", False),
        (LUNCH, "2024-06-11T12:59+02:00", False),
        (LUNCH, "2024-06-11T13:00+02:00", True),
        (ALWAYS_UTC, "2024-06-08T03:00+00:00", True),
        (ALWAYS_US, "2024-12-25T12:00-05:00", False),
        (ALWAYS_US, "2024-12-24T23:59-05:00", True),
        (NIGHT, "2024-06-11T23:00+02:00", True),
        (NIGHT, "2024-06-11T05:59+02:00", True),
        (NIGHT, "2024-06-11T06:00+02:00", False),
        # 02:30-05:00 on the fall-back Sunday: the repeated 02:00-02:30 is outside.
        (SUN_GAP, "2024-10-27T02:45+02:00", True),
        (SUN_GAP, "2024-10-27T02:15+01:00", False),
        (SUN_GAP, "2024-10-27T02:45+01:00", True),
        # ... and on the spring-forward Sunday it opens when the clock jumps to 03:00.
        (SUN_GAP, "2024-03-31T01:59+01:00", False),
        (SUN_GAP, "2024-03-31T03:00+02:00", True),
    ],
)
def test_is_business_time(cal: BusinessCalendar, at: str, expected: bool) -> None:
    assert is_business_time(cal, t(at)) is expected


@pytest.mark.parametrize(
    ("cal", "at", "expected"),
    [
        (NY_PLAIN, "2024-06-07T17:00-04:00", "2024-06-10T09:00-04:00"),
        (NY_PLAIN, "2024-06-10T11:11-04:00", "2024-06-10T11:11-04:00"),
        (NY, "2024-07-03T17:30-04:00", "2024-07-05T09:00-04:00"),
        (LUNCH, "2024-06-11T12:30+02:00", "2024-06-11T13:00+02:00"),
        (SUN_GAP, "2024-03-30T12:00+01:00", "2024-03-31T03:00+02:00"),
        (ALWAYS_US, "2024-12-25T12:00-05:00", "2024-12-26T00:00-05:00"),
        (NIGHT, "2024-06-11T06:00+02:00", "2024-06-11T22:00+02:00"),
    ],
)
def test_next_business_start(cal: BusinessCalendar, at: str, expected: str) -> None:
    result = next_business_start(cal, t(at))
    assert result == t(expected)
    assert is_business_time(cal, result)


def test_large_duration_round_trips() -> None:
    start = t("2024-01-02T10:00-05:00")
    due = add_business_time(NY, start, 2000 * H)
    assert business_time_between(NY, start, due) == 2000 * H
    assert due.year == 2024 and due.month == 12


def test_calendar_normalises_and_is_hashable() -> None:
    messy = BusinessCalendar.weekly(
        "Europe/Berlin",
        {0: [(time(13), time(17)), (time(9), time(12)), (time(11), time(13))], 6: []},
        country="de",
    )
    assert messy.hours[0] == ((time(9), time(17)),)
    assert messy.country == "DE"
    assert BusinessCalendar.weekly("Europe/Berlin", {0: [(time(9), time(17))]}, country="DE") == (
        messy
    )
    assert len({messy, BusinessCalendar.always(), BusinessCalendar.always()}) == 2
    # An overnight interval moves its morning part to the next weekday (Sunday -> Monday).
    night = BusinessCalendar.weekly("UTC", {6: [(time(22), time(6))]})
    assert night.hours[6] == ((time(22), time(0)),)
    assert night.hours[0] == ((time(0), time(6)),)


def test_non_utc_inputs_come_back_as_utc() -> None:
    start = t("2024-06-10T10:00+02:00")
    assert add_business_time(BERLIN, start, H) == datetime(2024, 6, 10, 9, tzinfo=UTC)
    assert next_business_start(BERLIN, start).tzinfo is UTC


def _mondays(first: date, count: int) -> list[date]:
    return [first + timedelta(weeks=n) for n in range(count)]


# Open on Mondays only, and every Monday from 2024 to mid-2028 is a day off.
NEVER_OPEN = BusinessCalendar.office_hours(
    "UTC", weekdays=[0], custom_holidays=_mondays(date(2024, 1, 1), 230)
)

NAIVE = datetime(2024, 6, 10, 10)
AWARE = datetime(2024, 6, 10, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    "call",
    [
        lambda: is_business_time(BERLIN, NAIVE),
        lambda: next_business_start(BERLIN, NAIVE),
        lambda: add_business_time(BERLIN, NAIVE, H),
        lambda: business_time_between(BERLIN, NAIVE, AWARE),
        lambda: business_time_between(BERLIN, AWARE, NAIVE),
        lambda: add_business_time(BERLIN, AWARE, -H),
        lambda: add_business_time(NEVER_OPEN, AWARE, H),
        lambda: next_business_start(NEVER_OPEN, AWARE),
        lambda: BusinessCalendar.always("Mars/Olympus_Mons"),
        lambda: BusinessCalendar.always("Europe/Berlin", country="XX"),
        lambda: BusinessCalendar.always("Europe/Berlin", country="DE", subdivision="ZZ"),
        lambda: BusinessCalendar.always("Europe/Berlin", subdivision="BY"),
        lambda: BusinessCalendar.office_hours("UTC", time(9), time(9)),
        lambda: BusinessCalendar.weekly("UTC", {}),
        lambda: BusinessCalendar.weekly("UTC", {7: [(time(9), time(17))]}),
        lambda: BusinessCalendar("UTC", ((),) * 6 + (((time(9), time(17)),),) * 2),
        lambda: BusinessCalendar.weekly("UTC", {0: [(9, 17)]}),  # type: ignore[list-item]
        lambda: BusinessCalendar.always(custom_holidays=[AWARE]),
    ],
)
def test_invalid_input_raises_value_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


def test_empty_calendar_still_measures_zero() -> None:
    assert business_time_between(NEVER_OPEN, AWARE, AWARE + timedelta(days=400)) == timedelta(0)
