"""``socialdesk bench pages``: the inbox page and the conversation page over HTTP, as a
signed-in agent, with many tickets stored."""

from __future__ import annotations

import random
import re
import time
from datetime import timedelta

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select

from socialdesk.bench.common import percentile, scratch_database
from socialdesk.bench.listing import PASSWORD, seed
from socialdesk.config import get_settings
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.db import Database
from socialdesk.store.models import Message, Ticket
from socialdesk.store.models.base import table_of
from socialdesk.web.app import create_app
from socialdesk.web.pages import inbox as inbox_page
from socialdesk.web.serving import serve

MESSAGES_PER_TICKET = 6


def _add_threads(db: Database, count: int) -> list[int]:
    """Give ``count`` random tickets a thread to show; returns their ids."""
    rng = random.Random(11)
    with db.write() as s:
        rows = list(
            s.execute(
                select(
                    Ticket.id, Ticket.workspace_id, Ticket.channel_account_id, Ticket.platform,
                    Ticket.first_message_at, Ticket.subject,
                ).where(Ticket.status.in_(["new", "open", "pending"]))
                .order_by(Ticket.id)
                .limit(20_000)
            )
        )  # fmt: skip
        chosen = rng.sample(rows, min(count, len(rows)))
        messages = []
        for r in chosen:
            for i in range(MESSAGES_PER_TICKET):
                inbound = i % 2 == 0
                messages.append(
                    {
                        "ticket_id": r.id,
                        "workspace_id": r.workspace_id,
                        "channel_account_id": r.channel_account_id,
                        "platform": r.platform,
                        "direction": "inbound" if inbound else "outbound",
                        "visibility": "public",
                        "platform_message_id": f"bench-{r.id}-{i}",
                        "author_name": "customer" if inbound else "brand",
                        "body": r.subject if inbound else "Thanks for reaching out, we are on it.",
                        "created_at": r.first_message_at + timedelta(minutes=5 * i),
                        "received_at": r.first_message_at + timedelta(minutes=5 * i),
                        "delivery_state": "none" if inbound else "sent",
                        "meta": {},
                    }
                )
        insert_with_ids(s.connection(), table_of(Message), messages)
    return [r.id for r in chosen]


def _sign_in(client: httpx.Client) -> None:
    form = client.get("/login").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert match
    response = client.post(
        "/login",
        data={"email": "bench@example.com", "password": PASSWORD, "csrf_token": match.group(1)},
    )
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed: {response.status_code}")


def _time(client: httpx.Client, paths: list[str], requests: int) -> list[float]:
    for path in paths[:10]:
        client.get(path).raise_for_status()
    samples = []
    for i in range(requests):
        started = time.perf_counter()
        response = client.get(paths[i % len(paths)])
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


def run_pages_bench(
    console: Console, *, tickets: int, requests: int, database_url: str | None
) -> None:
    table = Table(title=f"bench pages: server-rendered pages with {tickets:,} tickets")
    for column in ("page", "p50 ms", "p95 ms", "bytes"):
        table.add_column(column, justify="right")
    with scratch_database(database_url) as db:
        with Progress(console=console) as progress:
            accounts = seed(db, tickets, progress)
        ticket_ids = _add_threads(db, 200)
        some_account = next(v for k, v in accounts.items() if k.startswith("x-"))
        cases = {
            "inbox: all open, newest": ["/inbox"],
            "inbox: unassigned, channel x": ["/inbox?view=unassigned&channel=x"],
            "inbox: one account": [f"/inbox?account={some_account}"],
            "inbox: open, most urgent": ["/inbox?sort=urgent"],
            "conversation page": [f"/tickets/{i}" for i in ticket_ids],
        }
        inbox_page.forget_counts()
        with (
            serve(create_app(get_settings(), db)) as base_url,
            httpx.Client(base_url=base_url, follow_redirects=False) as client,
        ):
            _sign_in(client)
            for name, paths in cases.items():
                samples = _time(client, paths, requests)
                size = len(client.get(paths[0]).content)
                table.add_row(
                    name,
                    f"{percentile(samples, 0.5):.1f}",
                    f"{percentile(samples, 0.95):.1f}",
                    f"{size:,}",
                )
    console.print(table)
