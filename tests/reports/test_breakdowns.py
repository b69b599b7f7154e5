from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from socialdesk.reports import charts
from socialdesk.reports.breakdowns import (
    RESPONSE_BINS,
    change,
    histogram,
    per_day_per_channel,
    weekday_hours,
    who_answered,
)
from socialdesk.reports.metrics import Period, TicketFacts

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def test_histogram_bins_are_half_open() -> None:
    values = [0, 899, 900, 3599, 3600, 86399, 86400, 10**7]
    assert histogram(values, RESPONSE_BINS) == [
        ("< 15 min", 2),
        ("15-60 min", 2),
        ("1-4 h", 1),
        ("4-24 h", 1),
        ("≥ 24 h", 2),
    ]


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (12, 10, 0.2),
        (5, 10, -0.5),
        (3, 0, None),
        (None, 4, None),
        (4, None, None),
        (0.5, 0.4, 0.25),
    ],
)
def test_change_against_the_previous_period(
    current: float | None, previous: float | None, expected: float | None
) -> None:
    result = change(current, previous)
    assert result == pytest.approx(expected) if expected is not None else result is None


def test_per_day_per_channel_counts_opened_and_solved_on_their_days() -> None:
    period = Period(T0, T0 + timedelta(days=2), UTC)
    facts = [
        TicketFacts(1, T0, "x", solved_at=(T0 + timedelta(days=1),)),
        TicketFacts(2, T0 + timedelta(hours=2), "facebook"),
        TicketFacts(3, T0 - timedelta(days=3), "x", solved_at=(T0 + timedelta(hours=1),)),
    ]
    daily = per_day_per_channel(facts, period)
    # From 09:00 to 09:00 two days later: three calendar days.
    assert daily.days == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert daily.channels == ["facebook", "x"]
    assert daily.opened == {"facebook": [1, 0, 0], "x": [1, 0, 0]}
    assert daily.solved == {"facebook": [0, 0, 0], "x": [1, 1, 0]}


def test_who_answered_counts_replies_first_responses_and_their_median() -> None:
    period = Period(T0, T0 + timedelta(days=1), UTC)

    def ticket(n: int, actors: tuple[int | None, ...], wait: float | None) -> TicketFacts:
        response = T0 + timedelta(seconds=wait) if wait is not None else None
        return TicketFacts(
            n,
            T0,
            "x",
            first_inbound_at=T0,
            first_response_at=response,
            first_responder_id=actors[0] if actors else None,
            reply_actors=actors,
        )

    rows = who_answered(
        [ticket(1, (7, 7, 8), 60), ticket(2, (8,), 300), ticket(3, (7,), 120), ticket(4, (), None)],
        period,
    )
    assert [(r.user_id, r.replies, r.tickets, r.first_responses) for r in rows] == [
        (7, 3, 2, 2),
        (8, 2, 2, 1),
    ]
    assert rows[0].first_response_median_seconds == 90
    assert rows[1].first_response_median_seconds == 300


def test_weekday_hours_in_the_workspace_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    late_sunday_utc = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)  # Monday 05:30 in Tokyo
    grid = weekday_hours([T0, T0, late_sunday_utc], tokyo)
    assert grid[0][18] == 2  # Monday 09:00 UTC is 18:00 in Tokyo
    assert grid[0][5] == 1
    assert sum(map(sum, grid)) == 3


@pytest.mark.parametrize(
    ("value", "peak", "level"), [(0, 10, 0), (1, 10, 1), (2, 10, 1), (5, 10, 3), (10, 10, 5)]
)
def test_heat_levels(value: float, peak: float, level: int) -> None:
    assert charts.heat_level(value, peak) == level


def test_heatmap_draws_one_cell_per_value_and_names_the_busiest() -> None:
    svg = str(charts.heatmap(["Mon", "Tue"], ["00", "01"], [[0, 3], [1, 0]], title="Posts"))
    assert svg.count("<rect") == 4
    assert 'class="h5"' in svg and 'class="h0"' in svg
    assert "Busiest: Mon 01 3" in svg
    with pytest.raises(ValueError, match="one row"):
        charts.heatmap(["Mon"], ["00"], [[1, 2]], title="x")
