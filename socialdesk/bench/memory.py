"""``socialdesk bench memory``: the web server's peak memory with many messages stored.

Seeds ``messages`` messages over tickets (six per ticket, bulk inserts from
``bench/seeding.py``), starts the server in its own process (workers in another), and
has ``clients`` clients at once list tickets and search their text through the API for
``rounds`` rounds each. Reported: the server's peak resident set (``VmHWM`` from
``/proc/<pid>/status``, Linux) after start-up and after the requests. The baseline, in
the same run, is the peak of the idle server right after start-up.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select

from socialdesk.bench.common import median, scratch_database
from socialdesk.bench.seeding import BENCH_EMAIL, BENCH_PASSWORD, analyze, seed_tickets
from socialdesk.config import Settings
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.db import Database
from socialdesk.store.models import Message, Ticket
from socialdesk.store.models.base import table_of
from socialdesk.web.serving import serve_in_subprocess

PER_TICKET = 6
CHUNK = 20_000
SEARCHES = ("refund", "order", "password", "delivery", "battery", "flight")


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set in MiB (``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc (Linux only)")


def seed_messages(db: Database, messages: int, progress: Progress) -> None:
    tickets = max(1, messages // PER_TICKET)
    seed_tickets(db, tickets, progress)
    task = progress.add_task(f"seeding {messages:,} messages", total=messages)
    table = table_of(Message)
    with db.session() as s:
        rows = s.execute(
            select(
                Ticket.id, Ticket.workspace_id, Ticket.channel_account_id, Ticket.platform,
                Ticket.first_message_at, Ticket.subject,
            ).order_by(Ticket.id)
        ).all()  # fmt: skip
    made = 0
    batch: list[dict[str, object]] = []
    for r in rows:
        for i in range(PER_TICKET):
            if made >= messages:
                break
            inbound = i % 2 == 0
            batch.append(
                {
                    "ticket_id": r.id, "workspace_id": r.workspace_id,
                    "channel_account_id": r.channel_account_id, "platform": r.platform,
                    "direction": "inbound" if inbound else "outbound", "visibility": "public",
                    "platform_message_id": f"mem-{r.id}-{i}",
                    "author_name": "customer" if inbound else "brand",
                    "body": r.subject if inbound else "Thanks for reaching out, we are on it.",
                    "created_at": r.first_message_at + timedelta(minutes=5 * i),
                    "received_at": r.first_message_at + timedelta(minutes=5 * i),
                    "delivery_state": "none" if inbound else "sent", "meta": {},
                }
            )  # fmt: skip
            made += 1
        if len(batch) >= CHUNK or made >= messages:
            with db.write() as s:
                insert_with_ids(s.connection(), table, batch)
            progress.advance(task, len(batch))
            batch = []
        if made >= messages:
            break
    analyze(db)


def _client(base_url: str, token: str, rounds: int, index: int, samples: list[float]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=300) as client:
        for n in range(rounds):
            queries: list[dict[str, str | int]] = [
                {"status": "unsolved"},
                {"q": SEARCHES[(index + n) % len(SEARCHES)], "limit": 100},
            ]
            for params in queries:
                started = time.perf_counter()
                client.get("/api/v1/tickets", params=params).raise_for_status()
                samples.append((time.perf_counter() - started) * 1000)


def run_memory_bench(
    console: Console, *, messages: int, clients: int, rounds: int, database_url: str | None
) -> dict[str, float]:
    with scratch_database(database_url) as db:
        with Progress(console=console) as progress:
            seed_messages(db, messages, progress)
        pid: list[int] = []
        with serve_in_subprocess(db.url, Settings(), separate_worker=True, server_pid=pid) as url:
            with httpx.Client(base_url=url, timeout=60) as client:
                token = client.post(
                    "/api/v1/auth/token", json={"email": BENCH_EMAIL, "password": BENCH_PASSWORD}
                )
                token.raise_for_status()
                access = str(token.json()["access_token"])
            idle = peak_rss_mib(pid[0])
            samples: list[float] = []
            threads = [
                threading.Thread(target=_client, args=(url, access, rounds, i, samples))
                for i in range(clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            busy = peak_rss_mib(pid[0])
        backend = "SQLite" if db.is_sqlite else "PostgreSQL"
    table = Table(
        title=f"bench memory ({backend}): web server with {messages:,} messages, {clients} "
        f"concurrent clients listing and searching, {rounds} rounds each"
    )
    for column in ("measure", "peak RSS MiB", "requests", "median ms"):
        table.add_column(column, justify="right")
    table.add_row("server after the requests", f"{busy:.0f}", str(len(samples)),
                  f"{median(samples):.0f}")  # fmt: skip
    table.add_row("baseline: idle server after start-up", f"{idle:.0f}", "", "")
    console.print(table)
    console.print(f"target: under 300 MB per process → {busy * 1.048576:.0f} MB "
                  f"{'✔' if busy * 1.048576 < 300 else '✘'}")  # fmt: skip
    return {"idle_mib": idle, "busy_mib": busy}
