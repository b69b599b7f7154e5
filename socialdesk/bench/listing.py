"""``socialdesk bench list``: the inbox's ticket list over HTTP with many tickets stored."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.bench.common import percentile, scratch_database
from socialdesk.config import get_settings
from socialdesk.domain.enums import Platform, Role
from socialdesk.replay.twcs import read_rows
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.db import Database
from socialdesk.store.models import Contact, Ticket
from socialdesk.store.models.base import table_of
from socialdesk.store.repos.tickets import TicketFilter, list_tickets, parse_statuses
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "twcs" / "twcs_random_5000.csv"
PLATFORMS = [Platform.X] * 5 + [
    Platform.FACEBOOK,
    Platform.INSTAGRAM,
    Platform.EMAIL,
    Platform.MASTODON,
]
STATUSES = ["new", "open", "pending", "on_hold", "solved", "solved", "closed", "closed", "closed"]
PASSWORD = "bench-password"  # noqa: S105 - a throwaway user in a scratch database


def seed(db: Database, count: int, progress: Progress) -> dict[str, int]:
    """``count`` tickets over 20 accounts with real first lines; returns account ids."""
    rng = random.Random(7)
    texts = (
        [r.text.splitlines()[0][:300] for r in read_rows(DATA)[0] if r.inbound]
        if DATA.exists()
        else []
    )
    texts = texts or ["My order has not arrived"]
    with db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, "bench@example.com", PASSWORD, Role.AGENT, workspace=ws)
        accounts = {
            f"{p}-{i}": create_channel_account(
                s, None, workspace_id=ws.id, platform=p, handle=f"brand{i}", external_id=f"{p}-{i}"
            ).id
            for i, p in enumerate(PLATFORMS * 2)
        }
        workspace_id = ws.id
    account_items = list(accounts.items())
    start = datetime(2017, 10, 1, tzinfo=UTC)
    task = progress.add_task(f"seeding {count:,} tickets", total=count)
    contacts = table_of(Contact)
    tickets = table_of(Ticket)
    chunk = 10_000
    for offset in range(0, count, chunk):
        n = min(chunk, count - offset)
        with db.write() as s:
            conn = s.connection()
            contact_ids = insert_with_ids(
                conn,
                contacts,
                [
                    {
                        "workspace_id": workspace_id,
                        "display_name": f"customer {offset + i}",
                        "vip": False,
                        "attributes": {},
                        "created_at": start,
                    }
                    for i in range(n)
                ],
            )
            rows = []
            for i in range(n):
                key, account_id = account_items[rng.randrange(len(account_items))]
                first = start + timedelta(seconds=rng.randrange(60 * 60 * 24 * 60))
                last = first + timedelta(minutes=rng.randrange(600))
                rows.append(
                    {
                        "workspace_id": workspace_id,
                        "contact_id": contact_ids[i],
                        "channel_account_id": account_id,
                        "platform": key.split("-")[0],
                        "subject": texts[rng.randrange(len(texts))],
                        "status": rng.choice(STATUSES),
                        "priority": "normal",
                        "needs_reply": True,
                        "message_count": 1,
                        "first_message_at": first,
                        "last_message_at": last,
                        "sla_breached": False,
                        "created_at": first,
                        "updated_at": last,
                    }
                )
            insert_with_ids(conn, tickets, rows)
        progress.advance(task, n)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return accounts


QUERIES: dict[str, dict[str, Any]] = {
    "open, channel x": {"status": "unsolved", "channel": "x"},
    "open, one account": {"status": "unsolved", "account": None},
    "all, newest": {},
}


def run_list_bench(
    console: Console, *, tickets: int, requests: int, database_url: str | None
) -> None:
    table = Table(title=f"bench list: first page (25) with {tickets:,} tickets")
    for column in ("query", "HTTP p50 ms", "HTTP p95 ms", "direct SQL p50 ms", "direct SQL p95 ms"):
        table.add_column(column, justify="right")
    with scratch_database(database_url) as db:
        with Progress(console=console) as progress:
            accounts = seed(db, tickets, progress)
        some_account = next(v for k, v in accounts.items() if k.startswith("x-"))
        with (
            serve(create_app(get_settings(), db)) as base_url,
            httpx.Client(base_url=base_url) as client,
        ):
            token = client.post(
                "/api/v1/auth/token", json={"email": "bench@example.com", "password": PASSWORD}
            ).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            for name, params in QUERIES.items():
                query = {k: (some_account if v is None else v) for k, v in params.items()}
                http_ms = _time_http(client, query, requests)
                sql_ms = _time_sql(db, query, requests)
                table.add_row(
                    name,
                    f"{percentile(http_ms, 0.5):.1f}",
                    f"{percentile(http_ms, 0.95):.1f}",
                    f"{percentile(sql_ms, 0.5):.1f}",
                    f"{percentile(sql_ms, 0.95):.1f}",
                )
    console.print(table)


def _time_http(client: httpx.Client, query: dict[str, Any], requests: int) -> list[float]:
    for _ in range(10):  # warm caches and the connection
        client.get("/api/v1/tickets", params=query).raise_for_status()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get("/api/v1/tickets", params=query)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


def _time_sql(db: Database, query: dict[str, Any], requests: int) -> list[float]:
    with db.session() as s:
        workspace_ids = [ensure_workspace(s).id]
    f = TicketFilter(
        workspace_ids=workspace_ids,
        statuses=parse_statuses(str(query["status"])) if "status" in query else None,
        platforms={str(query["channel"])} if "channel" in query else None,
        account_id=int(str(query["account"])) if "account" in query else None,
    )
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        with db.session() as s:
            list_tickets(s, f, limit=25)
        samples.append((time.perf_counter() - started) * 1000)
    return samples
