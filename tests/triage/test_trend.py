"""The trend of a customer's sentiment over their messages (socialdesk/triage/trend.py)."""

from __future__ import annotations

from typing import Any

import pytest

from socialdesk.triage.trend import THRESHOLD, direction, sparkline, trend_of


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([], "steady"),
        ([-0.9], "steady"),
        ([0.2, -0.6], "worsening"),
        ([-0.6, 0.2], "improving"),
        ([0.1, 0.0, 0.05, 0.1], "steady"),
        # Exactly the threshold across the window counts as a move.
        ([0.0, -THRESHOLD], "worsening"),
        ([0.0, THRESHOLD], "improving"),
        ([0.0, -THRESHOLD + 0.01], "steady"),
        # A steady decline over many messages.
        ([0.5, 0.3, 0.1, -0.1, -0.3], "worsening"),
        # One angry message in the middle of calm ones is not a trend.
        ([0.1, 0.1, -0.9, 0.1, 0.1], "steady"),
        # Angry at first, calmer since: improving even though the last dipped a bit.
        ([-0.8, -0.6, -0.2, 0.1, 0.0], "improving"),
    ],
)
def test_direction(scores: list[float], expected: str) -> None:
    assert direction(scores) == expected


def _t(score: float | None, urgency: int | None = 1) -> dict[str, Any]:
    return {"sentiment": "neutral", "sentiment_score": score, "urgency": urgency}


@pytest.mark.parametrize(
    ("triages", "window", "expected"),
    [
        ([], 8, {"sentiment": "steady", "scores": [], "urgency": []}),
        # Untriaged messages (None, no score) are skipped.
        (
            [None, _t(0.3, 0), {}, _t(-0.4, 2)],
            8,
            {"sentiment": "worsening", "scores": [0.3, -0.4], "urgency": [0, 2]},
        ),
        (
            [_t(None, 3), _t(0.12345, None)],
            8,
            {"sentiment": "steady", "scores": [0.123], "urgency": [3]},
        ),
        # Only the last `window` messages count: the early anger is forgotten.
        (
            [_t(-0.9, 3), _t(-0.9, 3), _t(0.2), _t(0.2), _t(0.2)],
            3,
            {"sentiment": "steady", "scores": [0.2, 0.2, 0.2], "urgency": [1, 1, 1]},
        ),
        (
            [_t(-0.9, 3), _t(0.0, 2), _t(0.6, 0)],
            8,
            {"sentiment": "improving", "scores": [-0.9, 0.0, 0.6], "urgency": [3, 2, 0]},
        ),
    ],
)
def test_trend_of(triages: list[dict[str, Any] | None], window: int, expected: Any) -> None:
    assert trend_of(triages, window).as_dict() == expected


@pytest.mark.parametrize(
    ("scores", "points"),
    [
        ([], ""),
        ([0.5], ""),
        ([1.0, -1.0], "0.0,0.0 80.0,20.0"),
        ([0.0, 0.5, -0.5], "0.0,10.0 40.0,5.0 80.0,15.0"),
        # Out-of-range scores stay inside the box.
        ([2.0, -3.0], "0.0,0.0 80.0,20.0"),
    ],
)
def test_sparkline(scores: list[float], points: str) -> None:
    assert sparkline(scores) == points
