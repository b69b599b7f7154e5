"""A week of airline complaints on one X account, built from real tweets
(tests/fixtures/radar/airline_tweets.csv): quiet days with a daily rhythm, and on one
afternoon a surge of cancellation complaints that peaks at 16:00 UTC."""

from __future__ import annotations

import csv
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "radar" / "airline_tweets.csv"
START = datetime(2017, 11, 6, tzinfo=UTC)  # a Monday
SURGE_DAY = 4
# Cancellation complaints per hour on the surge day, from 13:00: peak at 16:00.
SURGE = [4, 9, 16, 28, 20, 12, 6, 3]
PEAK = START + timedelta(days=SURGE_DAY, hours=16)
_MENTION = re.compile(
    r"@(AmericanAir|Delta|British_Airways|SouthwestAir|AlaskaAir|VirginAtlantic|JetBlue|united|SpiritAirlines)\b"
)
TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"


def _texts() -> tuple[list[str], list[str]]:
    with FIXTURE.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    def one(text: str) -> str:  # every post to the same account
        return (
            _MENTION.sub("@AmericanAir", text) if _MENTION.search(text) else f"@AmericanAir {text}"
        )

    cancel = [one(r["text"]) for r in rows if r["kind"] == "cancel"]
    other = [one(r["text"]) for r in rows if r["kind"] == "other"]
    return cancel, other


def posts(days: int = 7, surge: bool = True, seed: int = 7) -> list[tuple[datetime, str]]:
    """(time, text) of every customer post, in time order."""
    rng = random.Random(seed)
    cancel, other = _texts()
    out: list[tuple[datetime, str]] = []
    for day in range(days):
        for hour in range(24):
            # Busier in the day than at night: 1 to 5 posts an hour.
            rate = 1 + (4 if 8 <= hour < 22 else 0) * rng.random()
            for _ in range(round(rate)):
                at = START + timedelta(days=day, hours=hour, seconds=rng.randrange(3600))
                # Now and then a cancellation on a quiet day too.
                pool = cancel if rng.random() < 0.08 else other
                out.append((at, rng.choice(pool)))
        if surge and day == SURGE_DAY:
            for i, n in enumerate(SURGE):
                for _ in range(n):
                    at = START + timedelta(days=day, hours=13 + i, seconds=rng.randrange(3600))
                    out.append((at, rng.choice(cancel)))
    out.sort()
    return out


def write_csv(path: Path, items: list[tuple[datetime, str]], first_id: int = 1) -> Path:
    """The posts in twcs form, each a thread root; the brand answers every tenth, so the
    replay knows the brand's account."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["tweet_id", "author_id", "inbound", "created_at", "text",
                    "response_tweet_id", "in_response_to_tweet_id"])  # fmt: skip
        next_id = first_id
        for n, (at, text) in enumerate(items):
            tid, next_id = next_id, next_id + 1
            reply = None
            if n % 10 == 0:
                reply, next_id = next_id, next_id + 1
            w.writerow([tid, 100000 + tid, "True", at.strftime(TIME_FORMAT), text,
                        reply or "", ""])  # fmt: skip
            if reply:
                w.writerow([reply, "AmericanAir", "False",
                            (at + timedelta(minutes=9)).strftime(TIME_FORMAT),
                            f"@{100000 + tid} We're sorry to hear this. Please DM us.",
                            "", tid])  # fmt: skip
    return path
