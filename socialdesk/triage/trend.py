"""How a customer's mood moved over their messages on a ticket: the trend the ticket
API (``triage_trend``) and the conversation page's customer panel show.

Pure functions over the stored ``messages.triage`` dicts of the customer's messages,
oldest first (no database). The direction is the least-squares slope over the last
``WINDOW`` scores, scaled to the change it predicts across that window: one outlier in
the middle moves it less than comparing the first and the latest message would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["worsening", "improving", "steady"]

# The customer's last messages the trend looks at (older ones say little about now).
WINDOW = 8
# A fitted change of at least this much (scores run -1..1) across the window is a move;
# less is noise between the model's near-neutral readings.
THRESHOLD = 0.25


@dataclass(frozen=True)
class Trend:
    sentiment: Direction
    # The last WINDOW sentiment scores and urgencies, oldest first.
    scores: list[float] = field(default_factory=list)
    urgency: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"sentiment": self.sentiment, "scores": self.scores, "urgency": self.urgency}


def direction(scores: Sequence[float], threshold: float = THRESHOLD) -> Direction:
    """``worsening`` / ``improving`` / ``steady`` from the slope of the scores."""
    n = len(scores)
    if n < 2:
        return "steady"
    mean_x = (n - 1) / 2
    mean_y = sum(scores) / n
    spread = sum((x - mean_x) ** 2 for x in range(n))
    slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(scores)) / spread
    change = slope * (n - 1)
    # A hair under the threshold from float error still counts as reaching it.
    if change <= -threshold + 1e-9:
        return "worsening"
    if change >= threshold - 1e-9:
        return "improving"
    return "steady"


def trend_of(triages: Sequence[Mapping[str, Any] | None], window: int = WINDOW) -> Trend:
    """The trend of a customer's messages' triage, oldest first. Messages without a
    score (not triaged yet, or empty) are skipped; urgency is listed for those that
    have one."""
    labelled = [t for t in triages if t]
    scores = [
        round(float(t["sentiment_score"]), 3)
        for t in labelled
        if isinstance(t.get("sentiment_score"), int | float)
    ][-window:]
    urgency = [int(t["urgency"]) for t in labelled if isinstance(t.get("urgency"), int)][-window:]
    return Trend(direction(scores), scores, urgency)


def sparkline(scores: Sequence[float], width: int = 80, height: int = 20) -> str:
    """The ``points`` of an SVG polyline drawing the scores (-1 at the bottom, 1 at the
    top) across ``width``; empty below two scores (nothing to draw)."""
    if len(scores) < 2:
        return ""
    step = width / (len(scores) - 1)
    points = []
    for i, score in enumerate(scores):
        clamped = max(-1.0, min(1.0, score))
        y = (1 - clamped) / 2 * height
        points.append(f"{i * step:.1f},{y:.1f}")
    return " ".join(points)
