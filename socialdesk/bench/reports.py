"""``socialdesk bench reports``: a year of tickets, the overview over HTTP answered from
daily rollups, against the same query folded from raw events in the same run.

Tickets and their event logs are bulk-inserted (the pipeline would take hours for a
million); each ticket gets what the metrics read: ``created`` and the customer's
``message_received``, most a ``replied`` after a random wait (some a second exchange
with its ``response_seconds``), most a ``status_changed`` to solved, some a CSAT score.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select

from socialdesk.actions.admin import create_user
from socialdesk.bench.common import median, percentile, scratch_database
from socialdesk.bench.seeding import BENCH_PASSWORD, PLATFORMS, analyze, brand_accounts
from socialdesk.config import get_settings
from socialdesk.domain.enums import Role
from socialdesk.reports.metrics import GroupBy
from socialdesk.reports.overview import overview
from socialdesk.reports.rollups import materialise
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import (
    Contact,
    Membership,
    Ticket,
    TicketEvent,
    User,
    Workspace,
)
from socialdesk.store.models.base import table_of
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve

LEAD_EMAIL = "bench-lead@example.com"
CHUNK = 10_000
DAYS = 365
QUERIES = ("day", "channel")


def run_reports_bench(
    console: Console,
    *,
    tickets: int,
    requests: int,
    raw_runs: int,
    database_url: str | None,
    seeded: str | None = None,
    keep: bool = False,
) -> None:
    """Seed a scratch database and time it; with ``seeded``, time a database a previous
    run left (``--keep``) instead: seeding a million tickets takes a quarter of an hour,
    and a change to the read path is re-timed in a minute."""
    now = utcnow()
    since = (now - timedelta(days=DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    until = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    table = Table(title=f"bench reports: overview of {DAYS} days with {tickets:,} tickets")
    for column in ("query", "HTTP p50 ms", "HTTP p95 ms", "raw p50 ms", "raw p95 ms", "ratio"):
        table.add_column(column, justify="right")
    with _database(console, database_url, seeded, keep) as db:
        with Progress(console=console) as progress:
            workspace_id = (
                _seeded_workspace(db) if seeded else seed_year(db, tickets, since, now, progress)
            )
            task = progress.add_task("folding closed days into rollups", total=None)
            started = time.perf_counter()
            folded = materialise(db, now)
            fold_seconds = time.perf_counter() - started
            progress.update(task, total=1, completed=1)
        with (
            serve(create_app(get_settings(), db)) as base_url,
            httpx.Client(base_url=base_url, timeout=120) as client,
        ):
            token = client.post(
                "/api/v1/auth/token", json={"email": LEAD_EMAIL, "password": BENCH_PASSWORD}
            ).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            for by in QUERIES:
                params = {"since": since.isoformat(), "until": until.isoformat(), "by": by}
                http_ms = _time_http(client, params, requests)
                raw_ms = _time_raw(db, workspace_id, since, until, GroupBy(by), raw_runs)
                table.add_row(
                    f"by {by}",
                    f"{percentile(http_ms, 0.5):.1f}",
                    f"{percentile(http_ms, 0.95):.1f}",
                    f"{percentile(raw_ms, 0.5):.1f}",
                    f"{percentile(raw_ms, 0.95):.1f}",
                    f"{median(raw_ms) / median(http_ms):.1f}x",
                )
    console.print(table)
    console.print(
        f"folding {folded} days into rollups took {fold_seconds:.1f} s"
        " (once; later passes fold only the days that changed)"
    )


@contextmanager
def _database(
    console: Console, database_url: str | None, seeded: str | None, keep: bool
) -> Iterator[Database]:
    if seeded is None:
        with scratch_database(database_url, keep=keep) as db:
            yield db
            if keep:
                console.print(f"kept the seeded database: --seeded {db.url}")
        return
    db = Database(seeded)
    try:
        yield db
    finally:
        db.dispose()


def _seeded_workspace(db: Database) -> int:
    with db.session() as s:
        workspace_id = s.scalar(
            select(Membership.workspace_id)
            .join(User, User.id == Membership.user_id)
            .where(User.email == LEAD_EMAIL)
        )
    if workspace_id is None:
        raise LookupError(f"{LEAD_EMAIL} is not in that database: seed one with --keep first")
    return int(workspace_id)


def _time_http(client: httpx.Client, params: dict[str, str], requests: int) -> list[float]:
    client.get("/api/v1/reports/overview", params=params).raise_for_status()  # warm
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get("/api/v1/reports/overview", params=params)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


def _time_raw(
    db: Database, workspace_id: int, since: datetime, until: datetime, by: GroupBy, runs: int
) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        with db.session() as s:
            overview(s, workspace_id, since, until, by, utcnow())
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def seed_year(db: Database, count: int, since: datetime, now: datetime, progress: Progress) -> int:
    """``count`` tickets opened over [since, now) with their event logs; the workspace id."""
    rng = random.Random(13)
    workspace_id, accounts = brand_accounts(db, PLATFORMS * 2)
    with db.write() as s:
        workspace = s.get(Workspace, workspace_id)
        lead = create_user(s, LEAD_EMAIL, BENCH_PASSWORD, Role.LEAD, workspace=workspace)
        agents = [lead.id] + [
            create_user(
                s, f"agent{n}@example.com", BENCH_PASSWORD, Role.AGENT, workspace=workspace
            ).id
            for n in range(5)
        ]
    account_items = list(accounts.items())
    span = int((now - since).total_seconds()) - 3600
    task = progress.add_task(f"seeding {count:,} tickets and their events", total=count)
    for offset in range(0, count, CHUNK):
        n = min(CHUNK, count - offset)
        with db.write() as s:
            conn = s.connection()
            contact_ids = insert_with_ids(
                conn,
                table_of(Contact),
                [
                    {
                        "workspace_id": workspace_id,
                        "display_name": f"customer {offset + i}",
                        "vip": False,
                        "attributes": {},
                        "created_at": since,
                    }
                    for i in range(n)
                ],
            )
            opened = [since + timedelta(seconds=rng.randrange(span)) for _ in range(n)]
            ticket_rows = []
            for i in range(n):
                key, account_id = account_items[rng.randrange(len(account_items))]
                ticket_rows.append(
                    {
                        "workspace_id": workspace_id,
                        "contact_id": contact_ids[i],
                        "channel_account_id": account_id,
                        "platform": key.split("-")[0],
                        "assignee_id": rng.choice(agents),
                        "subject": "My order has not arrived",
                        "status": "open",
                        "needs_reply": False,
                        "message_count": 1,
                        "first_message_at": opened[i],
                        "last_message_at": opened[i],
                        "sla_breached": False,
                        "created_at": opened[i],
                        "updated_at": opened[i],
                    }
                )
            ticket_ids = insert_with_ids(conn, table_of(Ticket), ticket_rows)
            events: list[dict[str, Any]] = []
            for ticket_id, at in zip(ticket_ids, opened, strict=True):
                events.extend(_ticket_events(rng, workspace_id, ticket_id, at, now, agents))
            conn.execute(table_of(TicketEvent).insert(), events)
        progress.advance(task, n)
    analyze(db)
    return workspace_id


def _ticket_events(
    rng: random.Random,
    workspace_id: int,
    ticket_id: int,
    at: datetime,
    now: datetime,
    agents: list[int],
) -> list[dict[str, Any]]:
    def event(kind: str, moment: datetime, actor: int | None = None, **data: Any) -> dict[str, Any]:
        return {
            "ticket_id": ticket_id,
            "workspace_id": workspace_id,
            "kind": kind,
            "actor_user_id": actor,
            "actor": "replay" if actor is None else "agent",
            "data": data,
            "created_at": moment,
        }

    rows = [event("created", at), event("message_received", at)]
    if rng.random() < 0.9:
        agent = rng.choice(agents)
        replied = at + timedelta(seconds=int(rng.expovariate(1 / 3600)) + 30)
        if replied < now:
            rows.append(event("replied", replied, agent))
            if rng.random() < 0.3:
                again = replied + timedelta(minutes=rng.randrange(5, 600))
                wait = rng.randrange(60, 7200)
                if again + timedelta(seconds=wait) < now:
                    rows.append(event("message_received", again))
                    rows.append(
                        event(
                            "replied",
                            again + timedelta(seconds=wait),
                            agent,
                            response_seconds=wait,
                        )
                    )
            solved = replied + timedelta(seconds=int(rng.expovariate(1 / 14400)))
            if rng.random() < 0.8 and solved < now:
                rows.append(
                    event("status_changed", solved, agent, **{"from": "open", "to": "solved"})
                )
                if rng.random() < 0.1:
                    rows.append(event("csat_recorded", solved, None, score=rng.randint(1, 5)))
    return rows
