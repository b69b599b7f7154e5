"""``socialdesk bench sla``: the periodic SLA scan with many open tickets.

Seeds ``tickets`` open tickets, each with a running first-response clock (60 min) and a
running resolution clock (24 h), started uniformly over the two days before ``t0`` and
stored as the scanner would have left them at ``t0``. Each timed run scans
``interval`` minutes later than the previous one (warnings and breaches → clock flags,
ticket events, ``tickets.sla_breached``, committed). The baseline, measured in the same
run, is a plain ``SELECT count(*)`` of the running clocks the scan watches.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import func, select

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.bench.common import median, scratch_database
from socialdesk.bench.seeding import analyze, ticket_row
from socialdesk.domain.enums import Platform
from socialdesk.sla.admin import create_policy
from socialdesk.sla.scan import scan_sla
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.db import Database
from socialdesk.store.models import Contact, SlaClock, Ticket
from socialdesk.store.models.base import table_of

T0 = datetime(2025, 3, 3, 12, tzinfo=UTC)
SPREAD = timedelta(hours=48)
TARGETS = {"first_response": timedelta(minutes=60), "resolution": timedelta(hours=24)}
WARN_SHARE = 0.75
CHUNK = 10_000


def _clock_row(ticket_id: int, workspace_id: int, policy_id: int, target: str, start: datetime):
    duration = TARGETS[target]
    due = start + duration
    warning = start + duration * WARN_SHARE
    warned, breached = warning < T0, due < T0
    return {
        "ticket_id": ticket_id,
        "workspace_id": workspace_id,
        "policy_id": policy_id,
        "target": target,
        "cycle": 1,
        "target_seconds": duration.total_seconds(),
        "warn_share": WARN_SHARE,
        "status": "running",
        "started_at": start,
        "running_since": start,
        "paused_since": None,
        "elapsed_seconds": 0.0,
        "due_at": due,
        "warning_at": warning,
        "warned": warned or breached,
        "breached": breached,
        "breached_at": due if breached else None,
        "fulfilled_at": None,
        "next_check_at": None if breached else (due if warned else warning),
    }


def seed(db: Database, count: int, progress: Progress) -> None:
    rng = random.Random(11)
    with db.write() as s:
        ws = ensure_workspace(s)
        account = create_channel_account(
            s, None, workspace_id=ws.id, platform=Platform.X, handle="brand", external_id="b-1"
        )
        policy = create_policy(
            s,
            None,
            ws.id,
            name="bench",
            targets=[
                {"first_response_minutes": 60, "resolution_minutes": 24 * 60},
            ],
            warn_share=WARN_SHARE,
        )
        workspace_id, account_id, policy_id = ws.id, account.id, policy.id
    contacts, tickets, clocks = table_of(Contact), table_of(Ticket), table_of(SlaClock)
    task = progress.add_task(f"seeding {count:,} open tickets", total=count)
    for offset in range(0, count, CHUNK):
        n = min(CHUNK, count - offset)
        with db.write() as s:
            conn = s.connection()
            contact_ids = insert_with_ids(
                conn,
                contacts,
                [
                    {
                        "workspace_id": workspace_id,
                        "display_name": f"c{offset + i}",
                        "vip": False,
                        "attributes": {},
                        "created_at": T0,
                    }
                    for i in range(n)
                ],
            )
            starts = [T0 - SPREAD * rng.random() for _ in range(n)]
            ticket_rows: list[dict[str, Any]] = [
                ticket_row(
                    workspace_id=workspace_id,
                    contact_id=contact_ids[i],
                    channel_account_id=account_id,
                    platform="x",
                    subject="where is my order",
                    status="open",
                    priority="normal",
                    needs_reply=True,
                    message_count=1,
                    first_message_at=starts[i],
                    last_message_at=starts[i],
                    sla_policy_id=policy_id,
                    first_response_due_at=starts[i] + TARGETS["first_response"],
                    resolution_due_at=starts[i] + TARGETS["resolution"],
                    sla_breached=starts[i] + TARGETS["first_response"] < T0,
                    created_at=starts[i],
                    updated_at=starts[i],
                )
                for i in range(n)
            ]
            ticket_ids = insert_with_ids(conn, tickets, ticket_rows)
            clock_rows = [
                _clock_row(ticket_id, workspace_id, policy_id, target, start)
                for ticket_id, start in zip(ticket_ids, starts, strict=True)
                for target in TARGETS
            ]
            insert_with_ids(conn, clocks, clock_rows)
        progress.advance(task, n)
    analyze(db)


def _timed_scan(db: Database, now: datetime) -> tuple[float, int]:
    started = time.perf_counter()
    with db.write() as s:
        notices = scan_sla(s.connection(), now)
    return time.perf_counter() - started, len(notices)


def _timed_count(db: Database) -> float:
    clocks = table_of(SlaClock)
    started = time.perf_counter()
    with db.session() as s:
        s.execute(
            select(func.count()).select_from(clocks).where(clocks.c.status == "running")
        ).scalar()
    return time.perf_counter() - started


def run_sla_bench(
    console: Console,
    *,
    tickets: int,
    runs: int,
    interval_minutes: float,
    database_url: str | None,
) -> dict[str, float]:
    with scratch_database(database_url) as db:
        with Progress(console=console) as progress:
            seed(db, tickets, progress)
        backend = "SQLite" if db.is_sqlite else "PostgreSQL"
        _timed_count(db)  # warm the cache the same way for both measurements
        scans: list[float] = []
        notices: list[int] = []
        counts: list[float] = []
        now = T0
        for _ in range(runs):
            now += timedelta(minutes=interval_minutes)
            seconds, found = _timed_scan(db, now)
            scans.append(seconds)
            notices.append(found)
            counts.append(_timed_count(db))
        catch_up_seconds, catch_up_found = _timed_scan(db, now + timedelta(hours=1))
    table = Table(title=f"bench sla ({backend}): {tickets:,} open tickets, {2 * tickets:,} clocks")
    for column in ("measure", "median", "runs", "notices per run"):
        table.add_column(column, justify="right")
    table.add_row(
        f"scan every {interval_minutes:g} min",
        f"{median(scans) * 1000:.1f} ms",
        " / ".join(f"{s * 1000:.0f}" for s in scans),
        f"{int(median([float(n) for n in notices])):,}",
    )
    table.add_row(
        "baseline: SELECT count(*) running clocks",
        f"{median(counts) * 1000:.1f} ms",
        " / ".join(f"{s * 1000:.0f}" for s in counts),
        "",
    )
    table.add_row(
        "catch-up scan after 1 h without scans",
        f"{catch_up_seconds * 1000:.1f} ms",
        "1",
        f"{catch_up_found:,}",
    )
    console.print(table)
    verdict = "✔" if median(scans) < 1.0 else "✘"
    console.print(f"target: periodic scan < 1 s → {median(scans):.3f} s {verdict}")
    return {"scan_median_s": median(scans), "count_median_s": median(counts)}
