"""Time zones as people pick them: checked names, wall times read in a zone across
daylight-saving changes, and moments printed for a person."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socialdesk.domain.time_zones import format_stamp, wall_time_to_utc, zone_problem


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("Europe/Paris", True),
        ("America/New_York", True),
        ("UTC", True),
        ("Asia/Kolkata", True),
        ("", False),
        ("Mars/Olympus_Mons", False),
        ("../../etc/passwd", False),
        ("europe/paris", False),  # names are case-sensitive in the tz database
    ],
)
def test_zone_problem(name: str, ok: bool) -> None:
    assert (zone_problem(name) is None) is ok


@pytest.mark.parametrize(
    ("wall", "zone", "utc"),
    [
        # Winter and summer in Paris: one and two hours ahead of UTC.
        (datetime(2026, 12, 5, 10, 0), "Europe/Paris", datetime(2026, 12, 5, 9, 0, tzinfo=UTC)),
        (datetime(2026, 7, 5, 10, 0), "Europe/Paris", datetime(2026, 7, 5, 8, 0, tzinfo=UTC)),
        # New York on the morning the clocks go back (first 01:30 is EDT).
        (datetime(2026, 11, 1, 1, 30), "America/New_York", _utc(2026, 11, 1, 5, 30)),
        (datetime(2026, 12, 5, 10, 0), None, datetime(2026, 12, 5, 10, 0, tzinfo=UTC)),
        (datetime(2026, 12, 5, 10, 0), "Not/AZone", datetime(2026, 12, 5, 10, 0, tzinfo=UTC)),
        # An aware time keeps its own offset whatever the zone.
        (_utc(2026, 12, 5, 10, 0), "Asia/Tokyo", _utc(2026, 12, 5, 10, 0)),
    ],
)  # fmt: skip
def test_wall_time_to_utc(wall: datetime, zone: str | None, utc: datetime) -> None:
    assert wall_time_to_utc(wall, zone) == utc


@pytest.mark.parametrize(
    ("zone", "printed"),
    [
        (None, "2026-12-05 09:15 UTC"),
        ("Europe/Paris", "2026-12-05 10:15 CET"),
        ("Asia/Kolkata", "2026-12-05 14:45 IST"),
        ("America/Sao_Paulo", "2026-12-05 06:15 -03"),
    ],
)
def test_format_stamp(zone: str | None, printed: str) -> None:
    assert format_stamp(datetime(2026, 12, 5, 9, 15, tzinfo=UTC), zone) == printed
    assert format_stamp(None, zone) == ""
