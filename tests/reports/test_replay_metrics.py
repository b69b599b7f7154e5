"""Real twcs threads replayed through the ordinary replay path give, through the API,
the numbers computed straight from the CSV by the separate code below.

The independent side reads the file with ``csv`` and ``statistics`` only (pandas is not
installed here) and shares no code with socialdesk: threads are the connected parts of
the reply links, a ticket is a thread, its brand is the one that answered it or the one
its first tweet mentions. The slice keeps threads whose every answer is unambiguous:
whole (every parent in the file), started by a customer's tweet that is also the
earliest, one brand at most, and customers who write in no other thread (so no ticket
joins a customer's other open ticket).
"""

from __future__ import annotations

import csv
import math
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import update

from socialdesk.pipeline.ingest import Pipeline
from socialdesk.replay.service import replay_twcs
from socialdesk.store.models import Workspace
from tests.api.conftest import Api

ZONE = ZoneInfo("America/New_York")
COLUMNS = [
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
]


@dataclass(frozen=True)
class Tweet:
    id: str
    author: str
    inbound: bool
    at: datetime
    text: str
    parent: str
    record: dict[str, str]


def _read(path: Path) -> list[Tweet]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Tweet(
                r["tweet_id"],
                r["author_id"],
                r["inbound"] == "True",
                datetime.strptime(r["created_at"], "%a %b %d %H:%M:%S %z %Y").astimezone(UTC),
                r["text"],
                r["in_response_to_tweet_id"],
                r,
            )
            for r in csv.DictReader(handle)
        ]


def _threads(tweets: list[Tweet]) -> list[list[Tweet]]:
    parent_of = {t.id: t.parent for t in tweets}

    def root(tweet_id: str) -> str:
        seen = set()
        while parent_of.get(tweet_id) and parent_of[tweet_id] in parent_of:
            if tweet_id in seen:
                break
            seen.add(tweet_id)
            tweet_id = parent_of[tweet_id]
        return tweet_id

    groups: dict[str, list[Tweet]] = defaultdict(list)
    for t in tweets:
        groups[root(t.id)].append(t)
    return list(groups.values())


@dataclass(frozen=True)
class Expected:
    brand: str
    opened_at: datetime
    first_response_seconds: float | None


def _clean_slice(tweets: list[Tweet]) -> tuple[list[Tweet], list[Expected]]:
    brands = {t.author for t in tweets if not t.inbound}
    ids = {t.id for t in tweets}
    threads = _threads(tweets)
    writers: Counter[str] = Counter()
    for thread in threads:
        writers.update({t.author for t in thread if t.inbound})
    kept: list[Tweet] = []
    expected: list[Expected] = []
    for thread in threads:
        thread.sort(key=lambda t: (t.at, int(t.id)))
        first = thread[0]
        roots = [t for t in thread if not t.parent]
        answering = {t.author for t in thread if not t.inbound}
        # The brand a customer addressed: whoever answered the first tweet itself, else
        # the one brand it mentions (a thread below someone else's post belongs to nobody).
        direct = {t.author for t in thread if not t.inbound and t.parent == first.id}
        mentioned = {m for m in re.findall(r"@(\w+)", first.text) if m in brands}
        addressed = direct or mentioned
        brand = next(iter(addressed)) if len(addressed) == 1 else None
        if (
            roots != [first]
            or not first.inbound
            or first.at < datetime(2017, 10, 1, tzinfo=UTC)
            or any(t.parent and t.parent not in ids for t in thread)
            or brand is None
            or answering - {brand}
            or any(writers[t.author] > 1 for t in thread if t.inbound)
        ):
            continue
        kept.extend(thread)
        reply = next((t for t in thread if not t.inbound and t.at >= first.at), None)
        expected.append(
            Expected(brand, first.at, (reply.at - first.at).total_seconds() if reply else None)
        )
    return kept, expected


def _nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(share * len(ordered)) - 1]


def test_replayed_twcs_threads_report_what_the_csv_says(
    api: Api, admin: httpx.Client, shared_data: Path, tmp_path: Path
) -> None:
    tweets, expected = _clean_slice(_read(shared_data / "twcs" / "twcs_head_5000.csv"))
    assert len(expected) > 300  # a real slice, not a handful
    path = tmp_path / "slice.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(t.record for t in tweets)
    report = replay_twcs(api.db, path, pipeline=Pipeline())
    assert report.tickets_created == len(expected)
    with api.db.write() as s:
        s.execute(update(Workspace).values(settings={"timezone": "America/New_York"}))

    days = sorted({e.opened_at.astimezone(ZONE).date() for e in expected})
    period = {"since": days[0].isoformat(), "until": (days[-1] + timedelta(days=1)).isoformat()}
    by_day = admin.get("/reports/overview", params={**period, "by": "day"}).json()
    opened_per_day = Counter(e.opened_at.astimezone(ZONE).date().isoformat() for e in expected)
    assert {r["key"]: r["opened"] for r in by_day["rows"] if r["opened"]} == opened_per_day

    by_account = admin.get("/reports/overview", params={**period, "by": "account"}).json()
    assert {r["label"]: r["opened"] for r in by_account["rows"]} == Counter(
        e.brand for e in expected
    )

    waits = [e.first_response_seconds for e in expected if e.first_response_seconds is not None]
    totals = by_day["totals"]
    assert totals["opened"] == len(expected)
    assert totals["responded"] == len(waits)
    assert abs(totals["first_response_median_seconds"] - statistics.median(waits)) <= 0.5
    assert totals["first_response_p90_seconds"] == _nearest_rank(waits, 0.9)
    within = sum(1 for w in waits if w <= 24 * 3600)
    assert abs(totals["response_rate_24h"] - within / len(expected)) < 0.001
    assert totals["net_new_customers"] == len(expected)

    # Per account too: each brand's median first response and 24-hour rate.
    per_brand: dict[str, list[Expected]] = defaultdict(list)
    for e in expected:
        per_brand[e.brand].append(e)
    for row in by_account["rows"]:
        mine = per_brand[row["label"]]
        brand_waits = [
            e.first_response_seconds for e in mine if e.first_response_seconds is not None
        ]
        if brand_waits:
            assert abs(row["first_response_median_seconds"] - statistics.median(brand_waits)) <= 0.5
        answered = sum(1 for w in brand_waits if w <= 24 * 3600)
        assert abs(row["response_rate_24h"] - answered / len(mine)) < 0.001
