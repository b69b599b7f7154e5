from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.domain.channel_health import assess_silence

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def every(minutes: float, count: int, last_ago: timedelta) -> list[datetime]:
    last = NOW - last_ago
    return [last - timedelta(minutes=minutes * i) for i in range(count)]


@pytest.mark.parametrize(
    ("received", "silent"),
    [
        ([], False),
        (every(5, 3, timedelta(hours=10)), False),  # too little history to judge
        (every(5, 20, timedelta(minutes=10)), False),  # busy channel, normal pause
        (every(5, 20, timedelta(minutes=50)), False),  # 10 gaps, but under the 1 h floor
        (every(5, 20, timedelta(hours=2)), True),  # busy channel gone quiet
        (every(60 * 6, 20, timedelta(hours=20)), False),  # quiet channel, normal
        (every(60 * 6, 20, timedelta(days=2)), True),
    ],
)
def test_assess_silence(received: list[datetime], silent: bool) -> None:
    assert assess_silence(received, NOW).silent is silent


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError):
        assess_silence([], datetime(2026, 1, 1))
