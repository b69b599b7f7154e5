"""The radar's statistic and its state machine, table-driven, no database."""

from __future__ import annotations

import math

import pytest

from socialdesk.radar.detection import Params, detect, needed_count, poisson_surprise


@pytest.mark.parametrize(
    ("k", "mean", "expected"),
    [
        (0, 3.0, 0.0),
        (1, 1.0, -math.log10(1 - math.exp(-1))),  # P(X>=1) = 1 - e^-1
        (2, 1.0, -math.log10(1 - 2 * math.exp(-1))),
        (3, 0.0, math.inf),
        (20, 4.0, 7.99),  # far tail: summed in log space, no underflow
    ],
)
def test_poisson_surprise(k: int, mean: float, expected: float) -> None:
    assert poisson_surprise(k, mean) == pytest.approx(expected, abs=0.05)


def test_surprise_rises_with_the_count_and_falls_with_the_baseline() -> None:
    assert poisson_surprise(10, 2.0) > poisson_surprise(9, 2.0)
    assert poisson_surprise(10, 2.0) > poisson_surprise(10, 3.0)
    assert poisson_surprise(400, 2.0) > 100  # no overflow far out


@pytest.mark.parametrize(
    ("baseline", "low", "high"),
    [
        (0.0, 11, 11),  # no history: against the floor of one post an hour
        (4.0, 18, 24),  # about four an hour: a surge is several times that
        (20.0, 80, 80),  # the ratio guard (four times the usual) rules for busy keys
    ],
)
def test_needed_count(baseline: float, low: int, high: int) -> None:
    assert low <= needed_count(baseline) <= high


P = Params()
WEEK = 7 * 96


def flat(rate_per_bucket: int, until: int) -> dict[int, int]:
    return {b: rate_per_bucket for b in range(until)}


CASES = {
    # name: (counts, expected incidents as (start, raise bucket, closed))
    "quiet key": (flat(1, WEEK), []),
    "nothing at all": ({}, []),
    "daily rhythm doubles the afternoons": (
        {b: (2 if (b % 96) in range(48, 72) else 1) for b in range(WEEK)},
        [],
    ),
    "busy afternoons every day are the key's normal": (
        {b: (0 if (b % 96) < 32 else 6 if 56 <= (b % 96) < 68 else 1) for b in range(WEEK)},
        [],
    ),
    "a surge opens, grows, closes": (
        {**flat(1, WEEK), **{b: 12 for b in range(400, 408)}},
        [(400, 401, True)],
    ),
    "a surge still going at the end stays open": (
        {**flat(1, 500), **{b: 12 for b in range(496, 500)}},
        [(496, 497, False)],
    ),
    "a handful on a silent key is not a crisis": ({300: 3, 301: 2}, []),
    "two surges two days apart are two incidents": (
        {**flat(1, WEEK), **{b: 15 for b in range(300, 304)}, **{b: 15 for b in range(500, 504)}},
        [(300, 301, True), (500, 502, True)],  # the first lifts the same-time baseline
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_detect(name: str) -> None:
    counts, expected = CASES[name]
    last = max(counts, default=0)
    spans = detect(counts, 200, last, P)
    assert [(s.start_bucket, s.raise_bucket, s.closed) for s in spans] == expected


def test_a_surge_is_raised_at_the_post_that_crosses_the_line_before_its_peak() -> None:
    counts = {**flat(1, WEEK)}
    ramp = [3, 6, 10, 16, 24, 30, 24, 12, 4]  # peaks at the sixth bucket
    counts.update({400 + i: n for i, n in enumerate(ramp)})
    [span] = detect(counts, 200, WEEK - 1, P)
    assert span.raise_bucket < span.peak_bucket
    assert span.peak_bucket == 406  # the busiest hour ends with the 30
    assert 1 <= span.raise_nth <= counts[span.raise_bucket]
    assert span.size == sum(ramp) or span.size >= sum(ramp[:7])
    assert span.baseline == pytest.approx(4.0)


def test_evaluating_again_from_the_start_finds_the_same_incident() -> None:
    counts = {**flat(1, WEEK), **{b: 12 for b in range(400, 408)}}
    whole = detect(counts, 200, WEEK - 1, P)
    again = detect(counts, whole[0].start_bucket, WEEK - 1, P)
    assert [(s.start_bucket, s.raise_bucket, s.size) for s in whole] == [
        (s.start_bucket, s.raise_bucket, s.size) for s in again
    ]


def test_nothing_opens_within_a_day_of_the_first_post() -> None:
    # A new desk: a busy key from its first hour on is its own normal, not a surge.
    counts = {b: 30 for b in range(0, 300)}
    assert detect(counts, 0, 299, P) == []
    # The same burst a day and more after the account's first post opens.
    late = {**{b: 1 for b in range(0, 200, 4)}, **{b: 30 for b in range(200, 204)}}
    assert [s.start_bucket for s in detect(late, 0, 300, P)] == [200]
    assert detect(late, 0, 300, P, seen_from=150) == []


def test_nothing_opens_without_hours_of_history() -> None:
    # One evening of posts and a couple of stray old ones: no baseline to judge by.
    evening = {0: 1, 1: 1, **{b: 12 for b in range(200, 208)}}
    assert detect(evening, 0, 300, P) == []
    # The account posted on other topics through the day before: that is history.
    other_topics = list(range(100, 200, 4))
    assert len(detect(evening, 0, 300, P, history=other_topics)) == 1
