"""``socialdesk bench list``: the inbox's ticket list over HTTP with many tickets stored."""

from __future__ import annotations

import time
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from socialdesk.actions.admin import ensure_workspace
from socialdesk.bench.common import percentile, scratch_database
from socialdesk.bench.seeding import BENCH_EMAIL, BENCH_PASSWORD, seed_tickets
from socialdesk.config import get_settings
from socialdesk.store.db import Database
from socialdesk.store.repos.tickets import TicketFilter, list_tickets, parse_statuses
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve

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
            accounts = seed_tickets(db, tickets, progress)
        some_account = next(v for k, v in accounts.items() if k.startswith("x-"))
        with (
            serve(create_app(get_settings(), db)) as base_url,
            httpx.Client(base_url=base_url) as client,
        ):
            token = client.post(
                "/api/v1/auth/token", json={"email": BENCH_EMAIL, "password": BENCH_PASSWORD}
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
