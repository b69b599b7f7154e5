"""Time zones as people pick them: an IANA name checked against the tz database, and a
moment shown or read in that zone. Pure; the database of zones is the standard
library's ``zoneinfo`` (with the ``tzdata`` package where the system has none)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_ZONE = "UTC"


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every zone a person may pick, sorted; the legacy aliases ("US/Pacific") too,
    since the tz database keeps them working."""
    return tuple(sorted(available_timezones() | {DEFAULT_ZONE}))


def zone_problem(name: str) -> str | None:
    """Why ``name`` is not a time zone we can use, or None when it is."""
    if not name:
        return "pick a time zone"
    if name not in zone_names():
        return f"{name!r} is not a time zone of the tz database (e.g. Europe/Paris)"
    return None


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def in_zone(moment: datetime, name: str | None) -> datetime:
    """The same instant on the wall clock of zone ``name`` (UTC when unknown)."""
    return moment.astimezone(_zone(name or DEFAULT_ZONE))


def wall_time_to_utc(wall: datetime, name: str | None) -> datetime:
    """A wall-clock time typed by someone in zone ``name`` as a UTC instant; an aware
    time keeps its own offset."""
    if wall.tzinfo is None:
        wall = wall.replace(tzinfo=_zone(name or DEFAULT_ZONE))
    return wall.astimezone(UTC)


def format_stamp(moment: datetime | None, name: str | None) -> str:
    """``2026-12-05 13:20 CET``: a moment as the pages print it for a person."""
    if moment is None:
        return ""
    local = in_zone(moment, name)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or name}"
