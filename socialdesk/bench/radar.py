"""``socialdesk bench radar``: the crisis radar's periodic pass with ``posts`` negative
inbound posts in the last 48 hours (docs/radar.md, the target is under one second).

Tickets and messages are bulk-inserted with their inline triage labels (negative, one of
the default topics), spread over a few accounts with a daily rhythm. The first pass
indexes them all into ``radar_posts`` (a one-time catch-up, reported apart); each timed
pass then finds a handful of new posts, as the worker does every minute, and evaluates
every key against its 48-hour baseline."""

from __future__ import annotations

import math
import random
import time
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from socialdesk.bench.common import median, scratch_database
from socialdesk.bench.seeding import PLATFORMS, analyze, brand_accounts
from socialdesk.radar.scan import scan
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import Message, Ticket
from socialdesk.store.models.base import table_of
from socialdesk.triage.rules import DEFAULT_TOPICS

CHUNK = 10_000
TOPICS = list(DEFAULT_TOPICS)
NEW_PER_PASS = 50
SURGE_MIN = 40


def _seed(
    db: Database,
    workspace_id: int,
    accounts: list[int],
    times: list[datetime],
    rng: random.Random,
    key: tuple[int, str] | None = None,
) -> None:
    for start in range(0, len(times), CHUNK):
        chunk = times[start : start + CHUNK]
        with db.engine.begin() as conn:
            picks = [key or (rng.choice(accounts), rng.choice(TOPICS)) for _ in chunk]
            ticket_ids = insert_with_ids(
                conn,
                table_of(Ticket),
                [
                    {
                        "workspace_id": workspace_id,
                        "channel_account_id": account,
                        "platform": "x",
                        "subject": "cancelled again",
                        "status": "open",
                        "needs_reply": True,
                        "message_count": 1,
                        "first_message_at": at,
                        "last_message_at": at,
                        "sla_breached": False,
                        "topic": topic,
                        "sentiment_label": "negative",
                        "created_at": at,
                        "updated_at": at,
                    }
                    for at, (account, topic) in zip(chunk, picks, strict=True)
                ],
            )
            rows: list[dict[str, Any]] = [
                {
                    "ticket_id": ticket_id,
                    "workspace_id": workspace_id,
                    "channel_account_id": account,
                    "platform": "x",
                    "direction": "inbound",
                    "visibility": "public",
                    "body": f"my flight was {topic.lower()} and nobody answers",
                    "created_at": at,
                    "received_at": at,
                    "meta": {},
                    "triage": {"sentiment": "negative", "topic": topic},
                }
                for ticket_id, at, (account, topic) in zip(ticket_ids, chunk, picks, strict=True)
            ]
            insert_with_ids(conn, table_of(Message), rows)


def _times(count: int, now: datetime, rng: random.Random) -> list[datetime]:
    """``count`` times in the 48 hours before ``now``, busier by day than by night."""
    out: list[datetime] = []
    while len(out) < count:
        at = now - timedelta(seconds=rng.random() * 48 * 3600)
        if rng.random() < 0.6 + 0.4 * math.sin(math.pi * at.hour / 24):
            out.append(at)
    return sorted(out)


def run_radar_bench(
    console: Console, *, posts: int, runs: int, accounts: int, database_url: str | None
) -> None:
    rng = random.Random(14)
    now = utcnow()
    with scratch_database(database_url) as db:
        workspace_id, by_key = brand_accounts(db, [PLATFORMS[0]] * accounts)
        account_ids = list(by_key.values())
        with Progress(console=console) as progress:
            task = progress.add_task(f"seeding {posts:,} negative posts in 48 h", total=None)
            _seed(db, workspace_id, account_ids, _times(posts, now, rng), rng)
            progress.update(task, total=1, completed=1)
        analyze(db)
        started = time.perf_counter()
        scan(db, now)
        catch_up = time.perf_counter() - started
        timings: list[float] = []
        raised = 0
        for run in range(runs):
            at = now + timedelta(seconds=60 * (run + 1))
            fresh = [at - timedelta(seconds=rng.random() * 60) for _ in range(NEW_PER_PASS)]
            _seed(db, workspace_id, account_ids, sorted(fresh), rng)
            # A surge on one key: its incident opens in the first timed pass and grows
            # (evaluated again from its start, its new tickets linked) in the others.
            surge = max(SURGE_MIN, posts // (48 * len(TOPICS) * len(account_ids)) * 5)
            _seed(
                db, workspace_id, account_ids, [at] * (surge // runs + 1), rng,
                key=(account_ids[0], TOPICS[0]),
            )  # fmt: skip
            started = time.perf_counter()
            found = scan(db, at)
            timings.append((time.perf_counter() - started) * 1000)
            if found is not None:
                raised += len(found.raised)
    keys = accounts * len(TOPICS)
    table = Table(title=f"bench radar: {posts:,} negative posts in the last 48 h, {keys} keys")
    for column in ("pass", "median ms", "max ms", "target ms"):
        table.add_column(column, justify="right")
    table.add_row(
        f"periodic (+{NEW_PER_PASS} posts)",
        f"{median(timings):.1f}",
        f"{max(timings):.1f}",
        "1000",
    )
    console.print(table)
    console.print(f"first pass, indexing all {posts:,} posts: {catch_up:.2f} s (once)")
    console.print(f"incidents raised by the timed passes (one surge): {raised}")
