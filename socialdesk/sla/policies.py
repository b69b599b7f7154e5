"""SLA policies as plain values: parse and validate the stored JSON, pick the policy for a
ticket, and the targets for its channel and priority. No I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from socialdesk.channels.networks import answers_by_email
from socialdesk.domain.business_hours import BusinessCalendar
from socialdesk.domain.enums import Platform, Priority
from socialdesk.domain.sla_clock import SlaTarget

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TARGET_FIELDS: dict[SlaTarget, str] = {
    SlaTarget.FIRST_RESPONSE: "first_response_minutes",
    SlaTarget.NEXT_RESPONSE: "next_response_minutes",
    SlaTarget.RESOLUTION: "resolution_minutes",
}
# Channels answered in public on social networks (used by "social cuts the line").


@dataclass(frozen=True)
class Targets:
    first_response: timedelta | None = None
    next_response: timedelta | None = None
    resolution: timedelta | None = None

    def get(self, target: SlaTarget) -> timedelta | None:
        value: timedelta | None = getattr(self, str(target))
        return value


@dataclass(frozen=True)
class PolicySpec:
    id: int
    workspace_id: int
    name: str
    channels: frozenset[str]
    targets: tuple[dict[str, Any], ...]
    calendar: BusinessCalendar
    pause_on_hold: bool = False
    warn_share: float = 0.75
    position: int = 0
    enabled: bool = True

    def covers(self, channel: str) -> bool:
        return self.enabled and (not self.channels or channel in self.channels)


def _parse_time(value: Any, where: str) -> time:
    if not isinstance(value, str):
        raise ValueError(f"{where}: times are 'HH:MM' strings, got {value!r}")
    if value == "24:00":
        return time(0)
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a time like '09:00'") from None


def calendar_from_config(config: Mapping[str, Any] | None) -> BusinessCalendar:
    """Build the calendar of a policy; ``None`` (or no ``hours``) means 24/7.

    Raises ValueError with a reason fit for an API answer.
    """
    if config is None:
        return BusinessCalendar.always()
    if not isinstance(config, Mapping):
        raise ValueError("calendar must be an object or null (24/7)")
    unknown = set(config) - {"timezone", "hours", "country", "subdivision", "custom_holidays"}
    if unknown:
        raise ValueError(f"calendar: unknown field {sorted(unknown)[0]!r}")
    zone = config.get("timezone", "UTC")
    holidays: list[date] = []
    for raw in config.get("custom_holidays") or []:
        try:
            holidays.append(date.fromisoformat(str(raw)))
        except ValueError:
            raise ValueError(f"calendar.custom_holidays: {raw!r} is not a date") from None
    country = config.get("country") or None
    subdivision = config.get("subdivision") or None
    hours = config.get("hours")
    if hours is None:
        return BusinessCalendar.always(
            zone, country=country, subdivision=subdivision, custom_holidays=holidays
        )
    if not isinstance(hours, Mapping):
        raise ValueError('calendar.hours maps weekdays to intervals: {"mon": [["09:00", "17:00"]]}')
    table: dict[int, list[tuple[time, time]]] = {}
    for key, intervals in hours.items():
        day = str(key).lower()[:3]
        if day not in WEEKDAYS:
            raise ValueError(f"calendar.hours: unknown weekday {key!r}; use mon … sun")
        where = f"calendar.hours.{day}"
        if not isinstance(intervals, list):
            raise ValueError(f"{where}: a list of [start, end] pairs")
        pairs = []
        for interval in intervals:
            if not isinstance(interval, list | tuple) or len(interval) != 2:
                raise ValueError(f"{where}: each interval is [start, end]")
            pairs.append((_parse_time(interval[0], where), _parse_time(interval[1], where)))
        table[WEEKDAYS.index(day)] = pairs
    return BusinessCalendar.weekly(
        zone, table, country=country, subdivision=subdivision, custom_holidays=holidays
    )


def validate_targets(rows: Any) -> list[dict[str, Any]]:
    """Normalize the target rows of a policy; raises ValueError with the reason."""
    if not isinstance(rows, list) or not rows:
        raise ValueError("targets: give at least one row")
    channels = {str(p) for p in Platform}
    priorities = {str(p) for p in Priority}
    seen: set[tuple[str | None, str | None]] = set()
    out = []
    for i, row in enumerate(rows):
        where = f"targets[{i}]"
        if not isinstance(row, Mapping):
            raise ValueError(f"{where}: an object")
        unknown = set(row) - {"channel", "priority", *TARGET_FIELDS.values()}
        if unknown:
            raise ValueError(f"{where}: unknown field {sorted(unknown)[0]!r}")
        channel, priority = row.get("channel"), row.get("priority")
        if channel is not None and channel not in channels:
            raise ValueError(f"{where}.channel: unknown channel {channel!r}")
        if priority is not None and priority not in priorities:
            raise ValueError(f"{where}.priority: unknown priority {priority!r}")
        if (channel, priority) in seen:
            raise ValueError(f"{where}: a second row for channel {channel}, priority {priority}")
        seen.add((channel, priority))
        clean: dict[str, Any] = {"channel": channel, "priority": priority}
        for name in TARGET_FIELDS.values():
            value = row.get(name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
            ):
                raise ValueError(f"{where}.{name}: a positive number of minutes or null")
            clean[name] = value
        out.append(clean)
    return out


def targets_for(rows: Iterable[Mapping[str, Any]], channel: str, priority: str) -> Targets:
    """The most specific row: channel and priority, then channel, then priority, then
    the catch-all; no matching row means nothing is measured."""
    best: Mapping[str, Any] | None = None
    best_rank = -1
    for row in rows:
        row_channel, row_priority = row.get("channel"), row.get("priority")
        if row_channel not in (None, channel) or row_priority not in (None, priority):
            continue
        rank = (2 if row_channel else 0) + (1 if row_priority else 0)
        if rank > best_rank:
            best, best_rank = row, rank
    if best is None:
        return Targets()

    def minutes(name: str) -> timedelta | None:
        value = best.get(name) if best else None
        return timedelta(minutes=value) if value else None

    return Targets(
        first_response=minutes("first_response_minutes"),
        next_response=minutes("next_response_minutes"),
        resolution=minutes("resolution_minutes"),
    )


def select_policy(policies: Sequence[PolicySpec], channel: str) -> PolicySpec | None:
    """The first enabled policy (by position, then id) that covers the channel."""
    for policy in sorted(policies, key=lambda p: (p.position, p.id)):
        if policy.covers(channel):
            return policy
    return None


def spec_from_row(row: Any) -> PolicySpec:
    """A PolicySpec from an SlaPolicy row (or any object with the same attributes)."""
    return PolicySpec(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        channels=frozenset(row.channels or ()),
        targets=tuple(row.targets or ()),
        calendar=calendar_from_config(row.calendar),
        pause_on_hold=bool(row.pause_on_hold),
        warn_share=float(row.warn_share),
        position=int(row.position),
        enabled=bool(row.enabled),
    )


def queue_sort_key(
    platform: str, priority: str, due_at: Any, ticket_id: int, *, social_cuts_line: bool
) -> tuple[Any, ...]:
    """Order of a shared queue: higher priority first; with "social cuts the line", social
    tickets before e-mail of equal priority; then earliest due (no due time last)."""
    from socialdesk.domain.enums import PRIORITY_RANK

    rank = -PRIORITY_RANK.get(Priority(priority), 1) if priority in set(Priority) else -1
    social = 0 if (social_cuts_line and not answers_by_email(platform)) else 1
    return (rank, social, due_at is None, due_at or 0, ticket_id)
