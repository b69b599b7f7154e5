"""Business-hours arithmetic for SLA deadlines.

A :class:`BusinessCalendar` says when a team is at work: a time zone, opening intervals per
weekday and days off. The functions below answer "is this instant business time", "when does
business time next begin", "what is the due time N business hours after X" and "how much
business time lies between X and Y". They are pure: no I/O, no clock reads, no database.

Semantics, chosen so every function agrees with :func:`is_business_time`:

* An instant is business time when its *local wall-clock* reading (in the calendar's zone)
  falls inside one of the intervals of its local weekday, and its local date is not a
  holiday. Intervals are half-open: ``[start, end)``.
* Durations are real elapsed time (what a stopwatch shows). A 09:00-17:00 day is therefore
  8 hours even on a 23- or 25-hour DST day, because the transition happens outside the
  interval; a 24/7 calendar has 23 business hours on a spring-forward day and 25 on a
  fall-back day, because that is how long the day really lasts.
* Interval boundaries that fall into a DST gap or fold are resolved by the same rule, so an
  interval opening at a skipped 02:30 opens when the clock jumps past it, and a repeated
  wall-clock half hour is counted once per pass that lies inside the interval.

All public inputs and outputs are timezone-aware datetimes; results are always in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "MAX_SEARCH",
    "BusinessCalendar",
    "Interval",
    "WeeklyHours",
    "add_business_time",
    "business_time_between",
    "is_business_time",
    "next_business_start",
]

# (start, end) in local wall-clock time; an end of 00:00 means midnight at the end of the day.
Interval = tuple[time, time]
# Seven entries, Monday first, as datetime.weekday() numbers them.
WeeklyHours = tuple[tuple[Interval, ...], ...]

# How far the search for business time may run before the calendar is declared empty.
MAX_SEARCH = timedelta(days=3 * 366)

_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)
_ZERO = timedelta(0)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIDNIGHT = time(0)

# Offsets from local midnight; a day's spans are sorted and disjoint.
_Span = tuple[timedelta, timedelta]


def _since_midnight(value: time) -> timedelta:
    return timedelta(
        hours=value.hour,
        minutes=value.minute,
        seconds=value.second,
        microseconds=value.microsecond,
    )


def _as_time(offset: timedelta) -> time:
    if offset == _DAY:
        return _MIDNIGHT
    hours, rest = divmod(offset, timedelta(hours=1))
    minutes, rest = divmod(rest, timedelta(minutes=1))
    seconds, rest = divmod(rest, _SECOND)
    return time(hours, minutes, seconds, rest // timedelta(microseconds=1))


def _normalise_week(hours: Iterable[Iterable[Interval]]) -> tuple[tuple[_Span, ...], ...]:
    """Validate the weekly table, wrap overnight intervals onto the next day, merge overlaps."""
    days = [list(day) for day in hours]
    if len(days) != 7:
        raise ValueError(f"weekly hours need 7 days (Monday first), got {len(days)}")
    spans: list[list[_Span]] = [[] for _ in range(7)]
    for weekday, intervals in enumerate(days):
        for interval in intervals:
            start, end = interval
            if not isinstance(start, time) or not isinstance(end, time):
                raise ValueError(f"interval bounds must be datetime.time values: {interval!r}")
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("interval bounds are wall-clock times; drop their tzinfo")
            lo = _since_midnight(start)
            hi = _since_midnight(end) if end != _MIDNIGHT else _DAY
            if lo < hi:
                spans[weekday].append((lo, hi))
            elif lo > hi:
                # An overnight shift such as 22:00-06:00: the morning part belongs to the next
                # weekday, so a holiday on that date also closes it.
                spans[weekday].append((lo, _DAY))
                spans[(weekday + 1) % 7].append((_ZERO, hi))
            else:
                raise ValueError(f"empty interval {interval!r}; use 00:00-00:00 for a full day")
    merged: list[tuple[_Span, ...]] = []
    for day_spans in spans:
        out: list[_Span] = []
        for lo, hi in sorted(day_spans):
            if out and lo <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], hi))
            else:
                out.append((lo, hi))
        merged.append(tuple(out))
    if not any(merged):
        raise ValueError("a business calendar needs at least one opening interval")
    return tuple(merged)


@lru_cache(maxsize=512)
def _country_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    # Cached per year so a scan over many tickets does not rebuild the holiday table, and so
    # the shared value is immutable (holidays' own objects grow lazily, which is not
    # thread-safe).
    table = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(table.keys())


@dataclass(frozen=True)
class BusinessCalendar:
    """When a team works: an IANA zone, weekly opening intervals and days off.

    ``hours`` holds seven tuples of ``(start, end)`` wall-clock intervals, Monday first.
    An end of ``time(0)`` means midnight at the end of the day, so ``(time(0), time(0))`` is
    a full day; an interval whose end is before its start runs overnight into the next
    weekday. The stored value is normalised (sorted, merged). Use :meth:`weekly`,
    :meth:`office_hours` or :meth:`always` rather than building the tuple by hand.

    Holidays come from the ``holidays`` package (``country`` plus optional ``subdivision``)
    and from ``custom_holidays``; each such date is a whole day off in the calendar's zone.
    """

    timezone: str
    hours: WeeklyHours
    country: str | None = None
    subdivision: str | None = None
    custom_holidays: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _spans: tuple[tuple[_Span, ...], ...] = field(init=False, repr=False, compare=False)
    _always_open: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        spans = _normalise_week(self.hours)
        custom = frozenset(self.custom_holidays)
        for day in custom:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"custom holidays must be dates, got {day!r}")
        country = self.country.upper() if self.country else None
        subdivision = self.subdivision or None
        if subdivision is not None and country is None:
            raise ValueError("a holiday subdivision needs a country")
        if country is not None:
            try:
                holidays.country_holidays(country, subdiv=subdivision, years=())
            except NotImplementedError as exc:
                raise ValueError(str(exc)) from exc
        # Frozen dataclass: normalised values have to be written past the frozen guard.
        set_ = object.__setattr__
        set_(
            self, "hours", tuple(tuple((_as_time(lo), _as_time(hi)) for lo, hi in d) for d in spans)
        )
        set_(self, "country", country)
        set_(self, "subdivision", subdivision)
        set_(self, "custom_holidays", custom)
        set_(self, "_zone", zone)
        set_(self, "_spans", spans)
        full_day = ((_ZERO, _DAY),)
        set_(
            self,
            "_always_open",
            all(day == full_day for day in spans) and country is None and not custom,
        )

    @classmethod
    def weekly(
        cls,
        timezone: str,
        hours: Mapping[int, Iterable[Interval]],
        *,
        country: str | None = None,
        subdivision: str | None = None,
        custom_holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """Build from ``{weekday: [(start, end), ...]}`` (0 = Monday); missing days are closed."""
        unknown = set(hours) - set(range(7))
        if unknown:
            raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday), got {sorted(unknown)}")
        table = tuple(tuple(hours.get(weekday, ())) for weekday in range(7))
        return cls(timezone, table, country, subdivision, frozenset(custom_holidays))

    @classmethod
    def office_hours(
        cls,
        timezone: str,
        start: time = time(9),
        end: time = time(17),
        *,
        weekdays: Iterable[int] = range(5),
        country: str | None = None,
        subdivision: str | None = None,
        custom_holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """The same single interval on each of ``weekdays`` (default Monday to Friday)."""
        return cls.weekly(
            timezone,
            {weekday: ((start, end),) for weekday in weekdays},
            country=country,
            subdivision=subdivision,
            custom_holidays=custom_holidays,
        )

    @classmethod
    def always(
        cls,
        timezone: str = "UTC",
        *,
        country: str | None = None,
        subdivision: str | None = None,
        custom_holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """Open around the clock (24/7), optionally minus holidays."""
        full_day = ((_MIDNIGHT, _MIDNIGHT),)
        return cls(timezone, (full_day,) * 7, country, subdivision, frozenset(custom_holidays))

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` (a local date in this calendar's zone) is a whole day off."""
        if day in self.custom_holidays:
            return True
        if self.country is None:
            return False
        return day in _country_holidays(self.country, self.subdivision, day.year)


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


def _offset(zone: ZoneInfo, at: datetime) -> timedelta:
    offset = at.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has an offset for an aware datetime
    return offset


def _whole_seconds(at: datetime, *, up: bool) -> int:
    seconds, rest = divmod(at - _EPOCH, _SECOND)
    return seconds + 1 if up and rest else seconds


def _transition(zone: ZoneInfo, lo: datetime, hi: datetime, lo_offset: timedelta) -> datetime:
    """The first instant in ``(lo, hi]`` whose UTC offset differs from ``lo_offset``.

    zoneinfo does not expose its transition table, so bisect. Transitions happen on whole
    seconds, which makes an integer search exact. The caller's window is at most a day and
    tzdata never changes offset twice within a day, so there is a single transition to find.
    """
    low = _whole_seconds(lo, up=False)
    high = _whole_seconds(hi, up=True)
    while high - low > 1:
        mid = (low + high) // 2
        if _offset(zone, _EPOCH + mid * _SECOND) == lo_offset:
            low = mid
        else:
            high = mid
    return min(_EPOCH + high * _SECOND, hi)


def _local_spans(
    cal: BusinessCalendar, lo: datetime, hi: datetime, offset: timedelta
) -> Iterator[tuple[datetime, datetime]]:
    """Business spans within ``[lo, hi)``, a UTC range over which the zone offset is fixed.

    With a fixed offset local time is just UTC shifted, so each wall-clock interval maps to
    one UTC range by subtracting the offset; this is what makes DST days come out right.
    """
    local_lo = (lo + offset).replace(tzinfo=None)
    local_hi = (hi + offset).replace(tzinfo=None)
    day = local_lo.date()
    midnight = datetime.combine(day, _MIDNIGHT)
    while midnight < local_hi:
        if not cal.is_holiday(day):
            for start, end in cal._spans[day.weekday()]:
                opens = max(midnight + start, local_lo)
                closes = min(midnight + end, local_hi)
                if opens < closes:
                    yield (
                        (opens - offset).replace(tzinfo=UTC),
                        (closes - offset).replace(tzinfo=UTC),
                    )
        day += _DAY
        midnight += _DAY


def _windows(
    cal: BusinessCalendar, start: datetime, end: datetime | None
) -> Iterator[tuple[datetime, datetime]]:
    """UTC ``[open, close)`` business spans from ``start`` in time order, clipped to ``end``.

    Walks a day (or up to the next DST transition) at a time, so the cost grows with the
    number of days covered, never with the duration's resolution. Without ``end`` the walk
    gives up with ValueError after MAX_SEARCH without any business time.
    """
    zone = cal.zone
    cursor = start
    quiet_since = start
    while end is None or cursor < end:
        stop = cursor + _DAY
        if end is not None and stop > end:
            stop = end
        offset = _offset(zone, cursor)
        if _offset(zone, stop) != offset:
            stop = _transition(zone, cursor, stop, offset)
        for span in _local_spans(cal, cursor, stop, offset):
            yield span
            quiet_since = span[1]
        cursor = stop
        if end is None and cursor - quiet_since > MAX_SEARCH:
            raise ValueError(
                f"no business time within {MAX_SEARCH.days} days after {quiet_since.isoformat()}"
            )


def is_business_time(cal: BusinessCalendar, at: datetime) -> bool:
    """Whether the instant ``at`` lies inside the calendar's opening hours."""
    at = _utc(at, "at")
    if cal._always_open:
        return True
    local = at.astimezone(cal.zone)
    day = local.date()
    if cal.is_holiday(day):
        return False
    since_midnight = local.replace(tzinfo=None) - datetime.combine(day, _MIDNIGHT)
    return any(start <= since_midnight < end for start, end in cal._spans[day.weekday()])


def next_business_start(cal: BusinessCalendar, at: datetime) -> datetime:
    """The earliest business instant at or after ``at`` (``at`` itself during business hours).

    Raises ValueError when there is no business time within MAX_SEARCH.
    """
    at = _utc(at, "at")
    for opens, _ in _windows(cal, at, None):
        return opens
    raise AssertionError("unbounded window walk ended")  # pragma: no cover


def add_business_time(cal: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The due time: the earliest instant by which ``duration`` of business time has passed.

    A due time that lands exactly on closing time is returned as that closing instant rather
    than the next opening, because that is when the duration is used up. A zero duration
    returns ``start`` unchanged. Raises ValueError for a negative duration or when the
    calendar has no business time for MAX_SEARCH.
    """
    start = _utc(start, "start")
    if duration < _ZERO:
        raise ValueError(f"duration must not be negative, got {duration}")
    if duration == _ZERO:
        return start
    if cal._always_open:
        return start + duration
    remaining = duration
    for opens, closes in _windows(cal, start, None):
        available = closes - opens
        if available >= remaining:
            return opens + remaining
        remaining -= available
    raise AssertionError("unbounded window walk ended")  # pragma: no cover


def business_time_between(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time within ``[start, end)``; zero when ``end`` is not after ``start``."""
    start = _utc(start, "start")
    end = _utc(end, "end")
    if end <= start:
        return _ZERO
    if cal._always_open:
        return end - start
    total = _ZERO
    for opens, closes in _windows(cal, start, end):
        total += closes - opens
    return total
