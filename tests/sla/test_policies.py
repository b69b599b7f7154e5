from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from socialdesk.domain.business_hours import is_business_time
from socialdesk.sla.policies import (
    PolicySpec,
    Targets,
    calendar_from_config,
    queue_sort_key,
    select_policy,
    targets_for,
    validate_targets,
)

ROWS = [
    {"channel": None, "priority": None, "first_response_minutes": 240, "resolution_minutes": 2880},
    {"channel": "x", "priority": None, "first_response_minutes": 30, "next_response_minutes": 60},
    {"channel": None, "priority": "urgent", "first_response_minutes": 15},
    {"channel": "x", "priority": "urgent", "first_response_minutes": 5},
]


@pytest.mark.parametrize(
    ("channel", "priority", "expected"),
    [
        ("email", "normal", Targets(timedelta(minutes=240), None, timedelta(minutes=2880))),
        ("x", "normal", Targets(timedelta(minutes=30), timedelta(minutes=60), None)),
        ("email", "urgent", Targets(timedelta(minutes=15), None, None)),
        ("x", "urgent", Targets(timedelta(minutes=5), None, None)),
        ("facebook", "low", Targets(timedelta(minutes=240), None, timedelta(minutes=2880))),
    ],
)
def test_most_specific_target_row_wins(channel: str, priority: str, expected: Targets) -> None:
    assert targets_for(ROWS, channel, priority) == expected


def test_no_matching_row_measures_nothing() -> None:
    assert targets_for([ROWS[1]], "email", "normal") == Targets()


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ([], "at least one row"),
        ([{"channel": "telegram"}], "unknown channel"),
        ([{"priority": "asap"}], "unknown priority"),
        ([{"first_response_minutes": -5}], "positive number"),
        ([{"first_response_minutes": True}], "positive number"),
        ([{"colour": "red"}], "unknown field"),
        ([{"channel": "x"}, {"channel": "x"}], "a second row"),
    ],
)
def test_invalid_targets_are_refused_with_a_reason(rows: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        validate_targets(rows)


def test_calendar_config_builds_office_hours_with_holidays() -> None:
    cal = calendar_from_config(
        {
            "timezone": "America/New_York",
            "hours": {"mon": [["08:00", "18:00"]], "tue": [["08:00", "18:00"]]},
            "country": "US",
            "custom_holidays": ["2025-03-04"],
        }
    )
    monday_9am_ny = datetime(2025, 3, 3, 14, tzinfo=UTC)
    assert is_business_time(cal, monday_9am_ny)
    assert not is_business_time(cal, monday_9am_ny + timedelta(days=1))  # custom holiday
    assert not is_business_time(cal, datetime(2025, 1, 20, 15, tzinfo=UTC))  # MLK day, Mon
    assert cal.custom_holidays == frozenset({date(2025, 3, 4)})


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"hours": {"funday": []}}, "unknown weekday"),
        ({"hours": {"mon": [["9am", "5pm"]]}}, "not a time"),
        ({"hours": {"mon": [["09:00"]]}}, r"\[start, end\]"),
        ({"custom_holidays": ["tomorrow"]}, "not a date"),
        ({"zone": "UTC"}, "unknown field"),
        ({"hours": {}}, "at least one opening interval"),
    ],
)
def test_invalid_calendars_are_refused(config: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        calendar_from_config(config)


def _spec(pid: int, channels: set[str], position: int = 0, enabled: bool = True) -> PolicySpec:
    return PolicySpec(
        pid,
        1,
        f"p{pid}",
        frozenset(channels),
        (),
        calendar_from_config(None),
        position=position,
        enabled=enabled,
    )


@pytest.mark.parametrize(
    ("channel", "expected"),
    [("x", 2), ("email", 3), ("facebook", 3)],
)
def test_first_policy_covering_the_channel(channel: str, expected: int) -> None:
    policies = [_spec(3, set(), 5), _spec(2, {"x"}, 1), _spec(1, {"x", "email"}, 0, enabled=False)]
    chosen = select_policy(policies, channel)
    assert chosen is not None and chosen.id == expected


def test_social_cuts_the_line_orders_social_first_within_priority() -> None:
    early = datetime(2025, 1, 1, tzinfo=UTC)
    late = early + timedelta(hours=1)
    rows = [("email", "normal", early, 1), ("x", "normal", late, 2), ("email", "high", late, 3)]
    cut = sorted(rows, key=lambda r: queue_sort_key(*r, social_cuts_line=True))
    shared = sorted(rows, key=lambda r: queue_sort_key(*r, social_cuts_line=False))
    assert [r[3] for r in cut] == [3, 2, 1]
    assert [r[3] for r in shared] == [3, 1, 2]
