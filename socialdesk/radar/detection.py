"""Pure detection: bucket counts of one key (channel account, topic) in, incidents out.

Posts are counted in 15-minute buckets. At every bucket the radar looks at the last
hour (``window_buckets``, the current one included) and compares its count with the
key's own mean hourly count over the 48 hours before that hour (``baseline_buckets``).
Under a Poisson model with that mean, the surprise of ``k`` posts is
``-log10 P(X >= k)``. An incident opens when, in one window, all of

* ``k >= min_count`` (a handful of angry posts is not a crisis),
* ``k >= ratio * baseline`` (the daily rhythm alone doubles an hour's volume; a surge
  is several times the usual),
* ``surprise >= open_surprise``

hold, where the baseline is the larger of the 48-hour mean and the mean of the same
three hours of the day on the two days before (the daily rhythm is not a surge). It
grows while windows stay elevated against the baseline frozen when it opened (so a
surge never becomes its own normal), and closes after ``quiet_buckets`` buckets with
none. Nothing here reads a clock: the same counts give the same incidents, which is
why a replayed history raises what the live desk would have raised, at the same post.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

BUCKET_SECONDS = 900


@dataclass(frozen=True, slots=True)
class Params:
    window_buckets: int = 4  # one hour
    baseline_buckets: int = 192  # 48 hours
    min_count: int = 8
    ratio: float = 4.0
    open_surprise: float = 7.0  # P <= 1e-7 under the baseline
    stay_surprise: float = 2.0
    quiet_buckets: int = 8  # two hours without an elevated window closes it
    # A key with (almost) no history still has a baseline: one post an hour.
    floor_per_window: float = 1.0
    # An account the radar has seen for less than a day raises nothing: on a new desk (or
    # the first day of a replay) every key would look like a surge against nothing.
    warmup_buckets: int = 96
    # ... and it must have posted (on any topic) in at least this many distinct hours of
    # the 48 before: a file of one evening's posts, or an account seen only through a few
    # stray old posts, has no baseline to be surprised against.
    min_history_hours: int = 8
    # The baseline is also never below the same hours (± this many buckets) of the days
    # before: the daily rhythm is not a surge.
    same_time_margin: int = 4
    day_buckets: int = 96


DEFAULT = Params()


def poisson_surprise(k: int, mean: float) -> float:
    """``-log10 P(X >= k)`` for X Poisson with ``mean``; 0 for k <= 0."""
    if k <= 0:
        return 0.0
    if mean <= 0:
        return math.inf
    log_mean = math.log(mean)

    def log_pmf(i: int) -> float:
        return -mean + i * log_mean - math.lgamma(i + 1)

    if k <= mean:
        # The tail is most of the mass: 1 - P(X < k), the head summed directly.
        head = sum(math.exp(log_pmf(i)) for i in range(k))
        return -math.log10(max(1.0 - head, 1e-300))
    # Terms fall from k on: sum in log space until they stop mattering.
    first = log_pmf(k)
    total, i = 0.0, k
    while True:
        term = math.exp(log_pmf(i) - first)
        total += term
        i += 1
        if term < 1e-12 or i > k + 10_000:
            break
    return -(first + math.log(total)) / math.log(10)


@dataclass(slots=True)
class Span:
    """One incident of one key, in bucket numbers. ``raise_bucket`` and ``raise_nth``:
    the ``raise_nth``-th post of that bucket is the one that crossed the threshold."""

    start_bucket: int
    raise_bucket: int
    raise_nth: int
    baseline: float  # posts per window (hour) before it began
    surprise: float  # the highest seen
    peak_bucket: int
    peak_count: int
    last_elevated: int
    size: int = 0
    closed: bool = False


def needed_count(baseline: float, params: Params = DEFAULT) -> int:
    """The smallest window count that opens an incident against ``baseline``."""
    mean = max(baseline, params.floor_per_window)
    k = max(params.min_count, math.ceil(params.ratio * mean))
    while poisson_surprise(k, mean) < params.open_surprise:
        k += 1
    return k


def detect(
    counts: Mapping[int, int],
    first: int,
    last: int,
    params: Params = DEFAULT,
    seen_from: int | None = None,
    history: Sequence[int] | None = None,
) -> list[Span]:
    """The incidents of one key whose windows end in buckets ``first`` … ``last``.

    ``counts`` holds the key's posts per bucket from at least ``first -
    window_buckets - baseline_buckets + 1`` on (missing buckets count 0). No incident is
    open before ``first``. ``seen_from``: the account's first bucket with posts (default:
    this key's); no window ending within ``warmup_buckets`` of it opens an incident.
    ``history``: the account's buckets with posts, sorted (default: this key's)."""
    if seen_from is None:
        seen_from = min((i for i, n in counts.items() if n > 0), default=first)
    may_open_from = seen_from + params.warmup_buckets
    w, b = params.window_buckets, params.baseline_buckets
    spans: list[Span] = []
    current: Span | None = None
    occupied = sorted(i for i, n in counts.items() if n > 0 and i <= last)
    known = occupied if history is None else history
    window = base = 0
    needed_cache: dict[float, int] = {}
    bucket, previous = first, None
    while bucket <= last:
        if previous is not None and bucket == previous + 1:
            # Running sums: the window (bucket-w+1 … bucket) and the baseline before it.
            window += counts.get(bucket, 0) - counts.get(bucket - w, 0)
            base += counts.get(bucket - w, 0) - counts.get(bucket - w - b, 0)
        else:
            window = sum(counts.get(i, 0) for i in range(bucket - w + 1, bucket + 1))
            base = sum(counts.get(i, 0) for i in range(bucket - w - b + 1, bucket - w + 1))
        previous = bucket
        if current is None and window == 0:
            # Nothing can open on an empty window: go to the next bucket with posts (a
            # replay of last year's history need not walk every quiet quarter hour).
            later = bisect_right(occupied, bucket)
            if later == len(occupied):
                break
            bucket = occupied[later]
            continue
        at, bucket = bucket, bucket + 1
        if current is None:
            # The mean over the part of the 48 hours the account was seen in: on its
            # second day a key's mean is not diluted by the hours before it existed.
            covered = min(b, max(1, at - w + 1 - seen_from))
            baseline = base * w / covered
            needed = needed_cache.get(baseline)
            if needed is None:
                needed = needed_cache[baseline] = needed_count(baseline, params)
            if window >= needed and at >= may_open_from:
                if _hours_with_posts(known, at - w - b + 1, at - w) < params.min_history_hours:
                    continue
                # The same hours of the day before and the one before that: a key whose
                # afternoons are always busy is compared with its afternoons.
                same_time = _same_time(counts, at, params, seen_from)
                if same_time > baseline:
                    baseline = same_time
                    needed = needed_count(baseline, params)
            if window >= needed and at >= may_open_from:
                before = window - counts.get(at, 0)
                mean = max(baseline, params.floor_per_window)
                # The surge began with the window's first at well above the usual.
                usual = params.ratio * mean / w
                start = next(
                    (i for i in range(at - w + 1, at) if counts.get(i, 0) > usual),
                    at,
                )
                current = Span(
                    start_bucket=start,
                    raise_bucket=at,
                    raise_nth=max(needed - before, 1),
                    baseline=baseline,
                    surprise=poisson_surprise(window, mean),
                    peak_bucket=at,
                    peak_count=window,
                    last_elevated=at,
                )
                spans.append(current)
            continue
        mean = max(current.baseline, params.floor_per_window)
        surprise = poisson_surprise(window, mean)
        if surprise >= params.stay_surprise and window >= params.min_count // 2:
            current.last_elevated = at
            current.surprise = max(current.surprise, surprise)
            if window > current.peak_count:
                current.peak_bucket, current.peak_count = at, window
        elif at - current.last_elevated >= params.quiet_buckets:
            current.closed = True
            current = None
    for span in spans:
        span.size = sum(counts.get(i, 0) for i in range(span.start_bucket, span.last_elevated + 1))
    return spans


def _hours_with_posts(buckets: Sequence[int], low: int, high: int) -> int:
    """Distinct hours among the sorted ``buckets`` in ``low`` … ``high``."""
    inside = buckets[bisect_left(buckets, low) : bisect_right(buckets, high)]
    return len({i // 4 for i in inside})


def _same_time(counts: Mapping[int, int], at: int, params: Params, seen_from: int) -> float:
    """Posts per window around the same time of day on each of the days before (within
    the baseline's reach): the window's span widened by ``same_time_margin`` each side."""
    w, m, day = params.window_buckets, params.same_time_margin, params.day_buckets
    total = days = 0
    for d in range(1, max(1, params.baseline_buckets // day) + 1):
        end = at - d * day + m
        if end - w - 2 * m + 1 < seen_from:
            break  # before the account was seen: no evidence either way
        total += sum(counts.get(i, 0) for i in range(end - w - 2 * m + 1, end + 1))
        days += 1
    return total * w / ((w + 2 * m) * days) if days else 0.0


def bucket_of(epoch_seconds: float) -> int:
    return int(epoch_seconds // BUCKET_SECONDS)
