"""``socialdesk bench triage``: the encoder worker's posts/s and the time to drain a surge.

Pushes ``posts`` real tweets (twcs, cycled) through the full pipeline, whose inline
triage step labels every customer post and leaves it pending for the encoder; then one
``TriageRefineWorker`` drains that backlog, timed. The baseline, measured in the same
run on the same customer posts, is the inline pass alone (``triage.triage`` per post).
The drain time of a 10,000-post surge is the backlog divided by the encoder's rate.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select

from socialdesk.automation.triage_refine import TriageRefineWorker, pending_count
from socialdesk.bench.common import median, scratch_database
from socialdesk.bench.ingest import _brands, _setup_accounts, load_posts
from socialdesk.config import Settings
from socialdesk.pipeline.runner import run_with_raw_events
from socialdesk.store.models import Message
from socialdesk.triage import triage
from socialdesk.wiring.pipeline import build_pipeline

SURGE = 10_000


def one_run(
    database_url: str | None, data_dir: Path, count: int, progress: Progress
) -> dict[str, float]:
    with scratch_database(database_url) as db:
        account_ids = _setup_accounts(db, _brands(data_dir))
        posts = load_posts(data_dir, count, account_ids)
        run_with_raw_events(
            db, build_pipeline(Settings(database_url=db.url)), posts, source="bench"
        )
        backlog = pending_count(db)
        with db.session() as s:
            texts = list(s.scalars(select(Message.body).where(Message.triage_pending.is_(True))))
        started = time.perf_counter()
        for text in texts:
            triage(text)
        inline_seconds = time.perf_counter() - started

        task = progress.add_task("encoder worker draining", total=backlog)
        started = time.perf_counter()
        refined = TriageRefineWorker(db).drain(lambda n: progress.advance(task, n))
        encoder_seconds = time.perf_counter() - started
        progress.remove_task(task)
        return {
            "backlog": backlog,
            "refined": refined,
            "left": pending_count(db),
            "inline_rate": len(texts) / inline_seconds if inline_seconds else 0.0,
            "encoder_rate": refined / encoder_seconds if encoder_seconds else 0.0,
        }


def run_triage_bench(
    console: Console, *, posts: int, runs: int, database_url: str | None, data_dir: Path
) -> None:
    backend = "PostgreSQL" if database_url and database_url.startswith("postgres") else "SQLite"
    table = Table(title=f"bench triage: {posts:,} real posts, {backend}")
    for column in (
        "run",
        "customer posts pending",
        "encoder worker posts/s",
        "inline pass posts/s (baseline)",
        "ratio",
        f"drain of a {SURGE:,}-post surge, s",
        "left pending",
    ):
        table.add_column(column, justify="right")
    results = []
    with Progress(console=console, transient=True) as progress:
        for _ in range(runs):
            results.append(one_run(database_url, data_dir, posts, progress))
    for number, r in enumerate(results, start=1):
        table.add_row(*_row(str(number), r))
    if runs > 1:
        keys = ("backlog", "refined", "left", "inline_rate", "encoder_rate")
        table.add_row(*_row("median", {k: median([r[k] for r in results]) for k in keys}))
    console.print(table)


def _row(name: str, r: dict[str, float]) -> list[str]:
    encoder, inline = r["encoder_rate"], r["inline_rate"]
    return [
        name,
        f"{r['backlog']:,.0f}",
        f"{encoder:,.1f}",
        f"{inline:,.0f}",
        f"{encoder / inline:.4f}" if inline else "-",
        f"{SURGE / encoder:,.0f}" if encoder else "-",
        f"{r['left']:,.0f}",
    ]
