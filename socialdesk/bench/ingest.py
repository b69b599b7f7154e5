"""``socialdesk bench ingest``: real posts through the full pipeline vs. a plain insert."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Text, insert, select
from sqlalchemy import Table as SqlTable

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.bench.common import median, scratch_database
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform
from socialdesk.domain.messages import InboundMessage
from socialdesk.pipeline.runner import run_with_raw_events
from socialdesk.replay.twcs import brand_handles, read_rows, to_messages
from socialdesk.store.db import Database
from socialdesk.store.models import Base
from socialdesk.wiring.pipeline import build_pipeline

SOURCES = ("twcs_head_5000.csv", "twcs_random_5000.csv", "twcs_kaggle_sample.csv")
CHUNK = 1000


def load_posts(
    data_dir: Path, count: int, account_ids: dict[str, int]
) -> list[tuple[InboundMessage, dict[str, Any]]]:
    """``count`` real tweets in pipeline form. When the files hold fewer, they are
    cycled with fresh ids per cycle (threads keep their shape within a cycle)."""
    base: list[tuple[InboundMessage, dict[str, Any]]] = []
    for name in _sources(data_dir):
        rows, _ = read_rows(data_dir / "twcs" / name)
        items, _ = to_messages(rows, account_ids)
        base.extend(items)
    if not base:
        raise ValueError(f"no twcs data found under {data_dir}")
    posts: list[tuple[InboundMessage, dict[str, Any]]] = []
    cycle = 0
    while len(posts) < count:
        suffix = f"c{cycle}" if cycle else ""
        for message, raw in base:
            if len(posts) >= count:
                break
            if suffix:
                message = replace(
                    message,
                    platform_message_id=message.platform_message_id + suffix,
                    reply_to_id=message.reply_to_id + suffix if message.reply_to_id else None,
                    author=replace(
                        message.author, external_user_id=message.author.external_user_id + suffix
                    )
                    if message.direction == "inbound"
                    else message.author,
                )
            posts.append((message, raw))
        cycle += 1
    return posts


def _sources(data_dir: Path) -> list[str]:
    """The twcs slices present (a small data folder may hold only one)."""
    found = [name for name in SOURCES if (data_dir / "twcs" / name).is_file()]
    if not found:
        raise ValueError(f"no twcs data found under {data_dir}")
    return found


def _brands(data_dir: Path) -> list[str]:
    handles: set[str] = set()
    for name in _sources(data_dir):
        rows, _ = read_rows(data_dir / "twcs" / name)
        handles.update(brand_handles(rows))
    return sorted(handles)


def _setup_accounts(db: Database, brands: list[str]) -> dict[str, int]:
    with db.write() as session:
        workspace = ensure_workspace(session)
        return {
            handle: create_channel_account(
                session,
                None,
                workspace_id=workspace.id,
                platform=Platform.X,
                handle=handle,
                external_id=handle,
            ).id
            for handle in brands
        }


_plain_meta = MetaData()
plain_posts = SqlTable(
    "bench_plain_posts",
    _plain_meta,
    Column("id", Integer, primary_key=True),
    Column("channel_account_id", Integer),
    Column("platform_message_id", String(64)),
    Column("author_id", String(64)),
    Column("reply_to_id", String(64)),
    Column("body", Text),
    Column("created_at", DateTime(timezone=True)),
)


def plain_insert(db: Database, posts: list[tuple[InboundMessage, dict[str, Any]]]) -> float:
    """The baseline: the same rows bulk-inserted into one plain table, same chunking."""
    _plain_meta.create_all(db.engine)
    started = time.perf_counter()
    for start in range(0, len(posts), CHUNK):
        rows = [
            {
                "channel_account_id": m.channel_account_id,
                "platform_message_id": m.platform_message_id,
                "author_id": m.author.external_user_id,
                "reply_to_id": m.reply_to_id,
                "body": m.body,
                "created_at": m.created_at,
            }
            for m, _ in posts[start : start + CHUNK]
        ]
        with db.write_engine.begin() as conn:
            conn.execute(insert(plain_posts), rows)
    return time.perf_counter() - started


def copy_output(source: Database, database_url: str | None) -> tuple[float, int]:
    """The second baseline: every row the pipeline wrote, bulk-inserted into a fresh
    database with the same chunking and no logic. Returns (seconds, rows)."""
    tables = [t for t in Base.metadata.sorted_tables if t.name != "alembic_version"]
    # Generated columns (tickets.next_due_at) are the database's to fill: copy only the
    # columns an insert may name, as the pipeline's own inserts do.
    columns = {t.name: [c for c in t.columns if c.computed is None] for t in tables}
    with source.engine.connect() as conn:
        contents = {
            t.name: [dict(r._mapping) for r in conn.execute(select(*columns[t.name]))]
            for t in tables
        }
    rows = sum(len(v) for v in contents.values())
    with scratch_database(database_url) as target:
        started = time.perf_counter()
        for table in tables:
            data = contents[table.name]
            for start in range(0, len(data), CHUNK):
                with target.write_engine.begin() as conn:
                    conn.execute(insert(table), data[start : start + CHUNK])
        return time.perf_counter() - started, rows


def one_run(
    database_url: str | None, data_dir: Path, count: int, brands: list[str]
) -> dict[str, float]:
    with scratch_database(database_url) as db:
        account_ids = _setup_accounts(db, brands)
        posts = load_posts(data_dir, count, account_ids)
        pipeline = build_pipeline(Settings(database_url=db.url))
        started = time.perf_counter()
        totals = run_with_raw_events(db, pipeline, posts, source="bench", chunk_size=CHUNK)
        pipeline_seconds = time.perf_counter() - started
        baseline_seconds = plain_insert(db, posts)
        output_seconds, output_rows = copy_output(db, database_url)
        return {
            "pipeline": pipeline_seconds,
            "plain": baseline_seconds,
            "output": output_seconds,
            "output_rows": output_rows,
            "stored": totals.stored,
            "tickets": totals.tickets_created,
        }


def run_ingest_bench(
    console: Console, *, posts: int, runs: int, database_url: str | None, data_dir: Path
) -> None:
    brands = _brands(data_dir)
    backend = (
        "SQLite (temporary file)"
        if not database_url or database_url.startswith("sqlite")
        else "PostgreSQL"
    )
    table = Table(title=f"bench ingest: {posts:,} real posts, {backend}")
    for column in (
        "run",
        "pipeline posts/s",
        "plain insert of the posts, rows/s",
        "ratio",
        "insert of the pipeline's own output, posts/s",
        "ratio",
        "rows written",
        "tickets",
    ):
        table.add_column(column, justify="right")
    rates: list[float] = []
    plains: list[float] = []
    outputs: list[float] = []
    with console.status("running…"):
        for run in range(1, runs + 1):
            r = one_run(database_url, data_dir, posts, brands)
            rate, plain, output = posts / r["pipeline"], posts / r["plain"], posts / r["output"]
            rates.append(rate)
            plains.append(plain)
            outputs.append(output)
            table.add_row(
                str(run),
                f"{rate:,.0f}",
                f"{plain:,.0f}",
                f"{rate / plain:.2f}",
                f"{output:,.0f}",
                f"{rate / output:.2f}",
                f"{int(r['output_rows']):,}",
                f"{int(r['tickets']):,}",
            )
    table.add_row(
        "median",
        f"{median(rates):,.0f}",
        f"{median(plains):,.0f}",
        f"{median(rates) / median(plains):.2f}",
        f"{median(outputs):,.0f}",
        f"{median(rates) / median(outputs):.2f}",
        "",
        "",
    )
    console.print(table)
