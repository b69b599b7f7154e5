from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from socialdesk.reports.metrics import (
    EventRow,
    GroupBy,
    Period,
    TicketFacts,
    aggregate,
    answered_within,
    days_between,
    fold_ticket,
    median,
    percentile,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ev(kind: str, minutes: float, actor: int | None = None, **data: object) -> EventRow:
    return EventRow(kind, at(minutes), actor, data)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], None), ([5], 5.0), ([3, 1, 2], 2.0), ([4, 1, 3, 2], 2.5), ([10, 10, 30, 30], 20.0)],
)
def test_median(values: list[float], expected: float | None) -> None:
    assert median(values) == expected


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([], 0.9, None),
        ([7], 0.9, 7.0),
        (list(range(1, 11)), 0.9, 9.0),  # nearest rank: the 9th of ten
        (list(range(1, 12)), 0.9, 10.0),  # ceil(9.9) = 10th of eleven
        (list(range(100, 0, -1)), 0.5, 50.0),
    ],
)
def test_percentile_nearest_rank(values: list[float], share: float, expected: float | None) -> None:
    assert percentile(values, share) == expected


FOLDS = [
    # (events, first_response_seconds, resolution, full resolution, reopens, replies, touches)
    pytest.param(
        [ev("created", 0), ev("message_received", 0)], None, None, None, 0, 0, 0, id="new"
    ),
    pytest.param(
        [ev("created", 0), ev("message_received", 0), ev("replied", 12, 7)],
        720.0,
        None,
        None,
        0,
        1,
        1,
        id="answered by an agent",
    ),
    pytest.param(
        [
            ev("created", 0),
            ev("message_received", 0),
            ev("note_added", 3, 8),
            ev("auto_replied", 1),
            ev("replied", 30, 7),
        ],
        1800.0,
        None,
        None,
        0,
        1,
        2,
        id="notes and acknowledgements are not the first response",
    ),
    pytest.param(
        [
            ev("replied", 20, 7),
            ev("created", 0),
            ev("message_received", 0),
            ev("status_changed", 60, 7, to="solved"),
            ev("message_received", 90),
            ev("reopened", 90, None, to="open"),
            ev("replied", 100, 9, response_seconds=600),
            ev("status_changed", 120, 9, to="solved"),
        ],
        1200.0,
        3600.0,
        7200.0,
        1,
        2,
        2,
        id="out of order, solved, reopened, solved again",
    ),
    pytest.param(
        [ev("created", 0), ev("replied", 5, 7), ev("message_received", 10), ev("replied", 25, 7)],
        900.0,
        None,
        None,
        0,
        2,
        1,
        id="a brand-started thread waits from the customer's first message",
    ),
]


@pytest.mark.parametrize(
    ("events", "first", "resolution", "full", "reopens", "replies", "touches"), FOLDS
)
def test_fold_ticket(
    events: list[EventRow],
    first: float | None,
    resolution: float | None,
    full: float | None,
    reopens: int,
    replies: int,
    touches: int,
) -> None:
    facts = fold_ticket(1, events, channel="x")
    assert facts is not None
    assert facts.first_response_seconds == first
    assert facts.resolution_seconds == resolution
    assert facts.full_resolution_seconds == full
    assert (facts.reopens, facts.replies, facts.touches) == (reopens, replies, touches)


def test_fold_without_created_event_is_nothing() -> None:
    assert fold_ticket(1, [ev("message_received", 0)], channel="x") is None


def test_next_response_and_csat_are_collected() -> None:
    facts = fold_ticket(
        1,
        [
            ev("created", 0),
            ev("message_received", 0),
            ev("replied", 5, 7, response_seconds=300),
            ev("replied", 50, 7, response_seconds=120),
            ev("csat_recorded", 60, None, score=4),
            ev("csat_recorded", 61, None, score=9),  # out of range: ignored
        ],
        channel="x",
    )
    assert facts is not None
    assert facts.next_response_seconds == (120.0,)
    assert facts.csat == ((at(60), 4),)
    assert facts.first_responder_id == 7


def _facts(first_response_minutes: float | None, inbound_minutes: float = 0) -> TicketFacts:
    inbound = at(inbound_minutes)
    response = (
        inbound + timedelta(minutes=first_response_minutes)
        if first_response_minutes is not None
        else None
    )
    return TicketFacts(1, inbound, "x", first_inbound_at=inbound, first_response_at=response)


@pytest.mark.parametrize(
    ("facts", "now", "expected"),
    [
        (_facts(60), at(120), True),
        (_facts(24 * 60), at(3000), True),  # exactly 24 h still counts
        (_facts(24 * 60 + 1), at(3000), False),
        (_facts(None), at(60), None),  # unanswered, under 24 h: not yet counted
        (_facts(None), at(24 * 60), False),
        (TicketFacts(1, T0, "x"), at(5000), None),  # no customer message
    ],
)
def test_answered_within_24h(facts: TicketFacts, now: datetime, expected: bool | None) -> None:
    assert answered_within(facts, now) == expected


def test_days_follow_the_workspace_time_zone() -> None:
    zone = ZoneInfo("America/New_York")
    since = datetime(2026, 3, 7, 5, 0, tzinfo=UTC)  # midnight in New York
    until = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # midnight after the DST change
    assert [d.isoformat() for d in days_between(since, until, zone)] == [
        "2026-03-07",
        "2026-03-08",
        "2026-03-09",
    ]


def test_aggregate_by_day_counts_cohorts_and_events_on_their_own_days() -> None:
    zone = ZoneInfo("Europe/Paris")
    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # already 3 March in Paris
    tickets = [
        TicketFacts(1, T0, "x", first_inbound_at=T0, first_response_at=at(10), solved_at=(late,)),
        TicketFacts(2, late, "x", first_inbound_at=late, first_response_at=None),
        # Opened before the period, solved and rated inside it.
        TicketFacts(
            3,
            T0 - timedelta(days=5),
            "facebook",
            solved_at=(at(30),),
            csat=((at(40), 5), (at(41), 2)),
        ),
    ]
    period = Period(
        datetime(2026, 3, 1, 23, 0, tzinfo=UTC), datetime(2026, 3, 3, 23, 0, tzinfo=UTC), zone
    )
    rows, totals = aggregate(tickets, GroupBy.DAY, period, now=late + timedelta(days=2))
    assert [r["key"] for r in rows] == ["2026-03-02", "2026-03-03"]
    first, second = rows
    assert (first["opened"], first["solved"], first["csat_responses"]) == (1, 1, 2)
    assert first["csat_average"] == 3.5
    assert first["first_response_median_seconds"] == 600
    assert first["response_rate_24h"] == 1.0
    assert (second["opened"], second["solved"]) == (1, 1)
    assert second["response_rate_24h"] == 0.0
    assert totals["opened"] == 2 and totals["solved"] == 2
    assert totals["response_rate_24h"] == 0.5
    assert totals["resolution_median_seconds"] == (late - T0).total_seconds()


def test_aggregate_by_channel_and_none() -> None:
    period = Period(T0, T0 + timedelta(days=1), UTC)
    tickets = [TicketFacts(i, at(i), c) for i, c in enumerate(["x", "facebook", "x"])]
    rows, _ = aggregate(tickets, GroupBy.CHANNEL, period, now=at(10))
    assert [(r["key"], r["opened"]) for r in rows] == [("facebook", 1), ("x", 2)]
    rows, _ = aggregate(tickets, GroupBy.NONE, period, now=at(10))
    assert [(r["key"], r["opened"]) for r in rows] == [("all", 3)]
    rows, _ = aggregate([], GroupBy.NONE, period, now=at(10))
    assert rows[0]["opened"] == 0 and rows[0]["first_response_median_seconds"] is None
