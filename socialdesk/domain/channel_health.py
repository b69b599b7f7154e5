"""Is a channel alive? A pure rule over the times it last received posts.

A polled or webhook channel that goes quiet for much longer than its usual gap between
posts has probably stopped delivering (a dropped subscription, a dead stream, revoked
access) rather than lost all its customers.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

# Quiet for this many usual gaps before we say so; never alert on less than the floor.
GAP_FACTOR = 4
MIN_SILENCE = timedelta(hours=1)
MIN_SAMPLES = 5


@dataclass(frozen=True, slots=True)
class Silence:
    silent: bool
    usual_gap: timedelta | None
    quiet_for: timedelta | None
    reason: str


def assess_silence(received: Sequence[datetime], now: datetime) -> Silence:
    """``received``: times of recent inbound posts, any order."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    times = sorted(received)
    if not times:
        return Silence(False, None, None, "nothing received yet")
    quiet_for = now - times[-1]
    if len(times) < MIN_SAMPLES:
        return Silence(False, None, quiet_for, "too little history to know the usual gap")
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    usual = timedelta(seconds=statistics.median(gaps))
    threshold = max(usual * GAP_FACTOR, MIN_SILENCE)
    if quiet_for > threshold:
        return Silence(
            True,
            usual,
            quiet_for,
            f"quiet for {_human(quiet_for)}; usually a post every {_human(usual)}",
        )
    return Silence(False, usual, quiet_for, "within its usual rhythm")


def _human(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 3600:
        return f"{max(1, seconds // 60)} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
