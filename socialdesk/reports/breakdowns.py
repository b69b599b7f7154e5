"""What the Reports page draws beside the overview rows: distributions, opened and solved
per day per channel, who answered, and posts by weekday and hour. Pure functions over
the facts of ``reports/metrics.py`` (and message times), so each is tested by a table."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from socialdesk.reports.metrics import Period, TicketFacts, days_between, local_day, median

# Upper bounds (seconds, excluded) of the distribution bins, with their labels.
RESPONSE_BINS: tuple[tuple[float, str], ...] = (
    (15 * 60, "< 15 min"),
    (3600, "15-60 min"),
    (4 * 3600, "1-4 h"),
    (24 * 3600, "4-24 h"),
    (float("inf"), "≥ 24 h"),
)
RESOLUTION_BINS: tuple[tuple[float, str], ...] = (
    (3600, "< 1 h"),
    (8 * 3600, "1-8 h"),
    (24 * 3600, "8-24 h"),
    (3 * 86400, "1-3 days"),
    (float("inf"), "≥ 3 days"),
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def histogram(
    values: Iterable[float], bins: Sequence[tuple[float, str]] = RESPONSE_BINS
) -> list[tuple[str, int]]:
    """(label, count) per bin; each value falls in the first bin whose bound exceeds it
    (24 h exactly is ``≥ 24 h``)."""
    counts = [0] * len(bins)
    for value in values:
        for i, (bound, _) in enumerate(bins):
            if value < bound:
                counts[i] += 1
                break
    return [(label, counts[i]) for i, (_, label) in enumerate(bins)]


@dataclass(frozen=True, slots=True)
class DailyByChannel:
    days: list[str]
    channels: list[str]
    opened: dict[str, list[int]]  # channel → opened per day
    solved: dict[str, list[int]]


def per_day_per_channel(facts: Iterable[TicketFacts], period: Period) -> DailyByChannel:
    days = [d.isoformat() for d in days_between(period.since, period.until, period.zone)]
    index = {d: i for i, d in enumerate(days)}
    opened: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    solved: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    for f in facts:
        if period.holds(f.opened_at):
            opened[f.channel][index[local_day(f.opened_at, period.zone).isoformat()]] += 1
        for at in f.solved_at:
            if period.holds(at):
                solved[f.channel][index[local_day(at, period.zone).isoformat()]] += 1
    channels = sorted(set(opened) | set(solved))
    return DailyByChannel(
        days,
        channels,
        {c: opened[c] for c in channels},
        {c: solved[c] for c in channels},
    )


@dataclass(frozen=True, slots=True)
class Responder:
    user_id: int | None  # None: the brand account itself, outside the desk
    replies: int
    first_responses: int
    first_response_median_seconds: float | None
    tickets: int


def who_answered(facts: Iterable[TicketFacts], period: Period) -> list[Responder]:
    """Per person, over the tickets opened in the period: replies written, tickets they
    answered first, the median wait before those first answers; most replies first."""
    replies: Counter[int | None] = Counter()
    tickets: Counter[int | None] = Counter()
    firsts: dict[int | None, list[float]] = defaultdict(list)
    for f in facts:
        if not period.holds(f.opened_at):
            continue
        replies.update(f.reply_actors)
        tickets.update(set(f.reply_actors))
        seconds = f.first_response_seconds
        if seconds is not None:
            firsts[f.first_responder_id].append(seconds)
    people = set(replies) | set(firsts)
    rows = [
        Responder(
            person,
            replies[person],
            len(firsts.get(person, ())),
            median(firsts.get(person, [])),
            tickets[person],
        )
        for person in people
    ]
    return sorted(rows, key=lambda r: (-r.replies, -r.first_responses, r.user_id or 0))


def weekday_hours(moments: Iterable[datetime], zone: tzinfo) -> list[list[int]]:
    """Counts per local weekday (Monday first) and hour: 7 rows of 24."""
    grid = [[0] * 24 for _ in WEEKDAYS]
    for at in moments:
        local = at.astimezone(zone)
        grid[local.weekday()][local.hour] += 1
    return grid


def change(current: Any, previous: Any) -> float | None:
    """Relative change from the previous period (0.25 = 25% more); None when either side
    has nothing to compare."""
    if current is None or previous is None or previous == 0:
        return None
    return (float(current) - float(previous)) / abs(float(previous))
