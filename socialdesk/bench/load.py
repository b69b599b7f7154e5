"""``socialdesk bench load``: signed webhooks at a steady rate while agents work the queue.

Four processes, as in a scaled install: the web server and the workers (each its own
process, ``serve_in_subprocess``), the X emulator that replies are delivered to (so
nothing leaves the machine), and the agents (one process, a thread each). This process
sends the webhooks: X mentions and Facebook comments, each with its real signature, at
``rate`` per second for ``seconds``, open loop (request *i* leaves at ``i / rate`` on a
pool of keep-alive connections with the bare HTTP/1.1 client of bench webhooks). Each
agent, in a loop, lists the unsolved X tickets, opens one and replies to it through the
API, then thinks for a second, for as long as webhooks are being sent.

Reported: ack p50/p99 of the webhooks, p50/p95 of the agents' pages (the list and the
ticket), replies made, and lost events: acknowledged deliveries that, once the worker
has drained them, are neither stored as messages nor kept as failed raw events.

Baselines in the same run, before the load: the same agents with no webhooks arriving
(their pages' p50/p95), and X's CRC challenge at the same rate (signature work, nothing
stored; its acks' p50/p99).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.bench.common import percentile, scratch_database
from socialdesk.bench.load_agents import THINK_SECONDS, AgentTimes, agents_main
from socialdesk.bench.seeding import BENCH_PASSWORD
from socialdesk.bench.webhooks import (
    BRAND_X,
    META_SECRET,
    PAGE,
    VERIFY_TOKEN,
    X_SECRET,
    Request,
    build_deliveries,
    encode,
    read_status,
)
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, Role
from socialdesk.store.db import Database
from socialdesk.store.models import Message, RawEvent
from socialdesk.web.serving import serve_in_subprocess

WARM_UP_EVENTS = 200  # tickets for the agents before anything is timed


@dataclass
class Fired:
    """What the webhook sender saw."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: int = 0

    @property
    def acked(self) -> int:
        return len(self.latencies) - self.failures


# ---------------------------------------------------------------- the webhook sender


async def _paced(base_url: str, requests: Sequence[Request], rate: float) -> Fired:
    """Open loop: request *i* is due ``i / rate`` seconds after the start; enough
    connections that a slow answer delays only the requests behind it on its connection."""
    url = httpx.URL(base_url)
    host, port = url.host, url.port or 80
    payloads = [encode(f"{host}:{port}", r) for r in requests]
    fired = Fired()
    connections = max(2, min(64, int(rate // 25) + 2))
    next_index = 0
    started = time.perf_counter()

    async def connection() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while next_index < len(payloads):
                i = next_index
                next_index += 1
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent = time.perf_counter()
                writer.write(payloads[i])
                status = await read_status(reader)
                fired.latencies.append((time.perf_counter() - sent) * 1000)
                if status != 200:
                    fired.failures += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    fired.seconds = time.perf_counter() - started
    return fired


def _deliveries(start: int, count: int) -> list[Request]:
    return [("POST", path, body, headers) for path, body, headers in build_deliveries(count, start)]


@contextmanager
def _agents(base_url: str, tokens: list[str]) -> Iterator[AgentTimes]:
    """Run the agents in their own process while the block runs; their timings fill the
    yielded record when it ends."""
    context = multiprocessing.get_context("spawn")
    out, stop = context.Queue(), context.Event()
    process = context.Process(target=agents_main, args=(base_url, tokens, stop, out))
    process.start()
    times = AgentTimes()
    try:
        yield times
        stop.set()
        pages, replies, errors = out.get(timeout=120)
        times.pages, times.replies, times.errors = pages, replies, errors
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()


# ---------------------------------------------------------------- the X emulator


@contextmanager
def _x_emulator() -> Iterator[str]:
    """``socialdesk emulate x`` in a child process, the brand known, limits raised."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "socialdesk.cli", "emulate", "x", "--port", str(port),
         "--secret", X_SECRET],
        env=os.environ.copy(), stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/_emulator/sent", timeout=1)
                break
            except httpx.TransportError:
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the X emulator did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        child.terminate()
        child.wait(timeout=15)


def _x_token(emulator_url: str) -> str:
    with httpx.Client(base_url=emulator_url) as client:
        client.post("/_emulator/users", json={"id": BRAND_X, "username": "AcmeSupport"})
        client.put(
            "/_emulator/config",
            json={"rate_limits": {"POST /2/tweets": 1_000_000}, "echo": "off"},
        ).raise_for_status()
        token = client.post("/_emulator/tokens", json={"user_id": BRAND_X})
        token.raise_for_status()
        return str(token.json()["access_token"])


# ---------------------------------------------------------------- the run


def _setup(db: Database, x_token: str, agents: int) -> list[str]:
    emails = [f"agent{i}@bench.example" for i in range(agents)]
    with db.write() as s:
        ws = ensure_workspace(s)
        create_channel_account(
            s, None, workspace_id=ws.id, platform=Platform.X, handle="AcmeSupport",
            external_id=BRAND_X, secrets={"access_token": x_token},
        )  # fmt: skip
        create_channel_account(
            s, None, workspace_id=ws.id, platform=Platform.FACEBOOK, handle="Acme",
            external_id=PAGE,
        )  # fmt: skip
        for email in emails:
            create_user(s, email, BENCH_PASSWORD, Role.AGENT, workspace=ws)
    return emails


def _sign_in(base_url: str, emails: list[str]) -> list[str]:
    """API tokens for the agents, one sign-in at a time, before anything is timed."""
    tokens = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for email in emails:
            response = client.post(
                "/api/v1/auth/token", json={"email": email, "password": BENCH_PASSWORD}
            )
            response.raise_for_status()
            tokens.append(str(response.json()["access_token"]))
    return tokens


def _inbound(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).where(Message.direction == "inbound")) or 0


def _failed_raw(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).where(RawEvent.status == "failed")) or 0


def _drain(db: Database, expected: int, timeout: float) -> float:
    """Wait until ``expected`` inbound messages are stored (or failed); seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if _inbound(db) + _failed_raw(db) >= expected:
            break
        time.sleep(0.1)
    return time.monotonic() - started


def run_load_bench(
    console: Console, *, rate: float, seconds: float, agents: int, database_url: str | None
) -> dict[str, float]:
    events = int(rate * seconds)
    baseline_seconds = max(1.0, min(10.0, seconds / 6))
    warm_up = min(WARM_UP_EVENTS, max(20, events))
    load = _deliveries(warm_up, events)
    crc: list[Request] = [
        ("GET", f"/hooks/x?crc_token=t{i}", None, {}) for i in range(int(rate * baseline_seconds))
    ]
    with _x_emulator() as x_url, scratch_database(database_url) as db:
        backend = "SQLite" if db.is_sqlite else "PostgreSQL"
        emails = _setup(db, _x_token(x_url), agents)
        settings = Settings(
            x_consumer_secret=X_SECRET, meta_app_secret=META_SECRET,
            meta_verify_token=VERIFY_TOKEN, x_api_base_url=x_url,
        )  # fmt: skip
        with serve_in_subprocess(db.url, settings, separate_worker=True) as base_url:
            with console.status("warming up…"):
                tokens = _sign_in(base_url, emails)
                asyncio.run(_paced(base_url, _deliveries(0, warm_up), rate))
                _drain(db, warm_up, 120)
            console.log(f"warm-up: {warm_up} events stored, {agents} agents signed in")
            with (
                console.status(f"baseline: {agents} agents, no webhooks…"),
                _agents(base_url, tokens) as idle,
            ):
                time.sleep(baseline_seconds)
            with console.status("baseline: CRC challenges at the same rate…"):
                crc_fired = asyncio.run(_paced(base_url, crc, rate))
            console.log("baselines done")
            with (
                console.status(f"load: {rate:g} webhooks/s, {seconds:g} s, {agents} agents…"),
                _agents(base_url, tokens) as busy,
            ):
                fired = asyncio.run(_paced(base_url, load, rate))
            with console.status("waiting for the worker to store every event…"):
                drained = _drain(db, warm_up + fired.acked, max(120.0, events / 100))
            stored, failed = _inbound(db), _failed_raw(db)
    lost = max(0, warm_up + fired.acked - stored - failed)
    table = Table(
        title=f"bench load ({backend}): {rate:g} signed webhooks/s for {seconds:g} s, "
        f"{agents} agents (list, open, reply, {THINK_SECONDS:g} s pause)"
    )
    for column in ("measure", "count", "rate/s", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="right")
    table.add_row(
        "webhook acks under load", f"{len(fired.latencies):,}",
        f"{len(fired.latencies) / fired.seconds:,.0f}", f"{percentile(fired.latencies, 0.5):.1f}",
        f"{percentile(fired.latencies, 0.95):.1f}", f"{percentile(fired.latencies, 0.99):.1f}",
    )  # fmt: skip
    table.add_row(
        "baseline: CRC at the same rate, no agents", f"{len(crc_fired.latencies):,}",
        f"{len(crc_fired.latencies) / crc_fired.seconds:,.0f}",
        f"{percentile(crc_fired.latencies, 0.5):.1f}",
        f"{percentile(crc_fired.latencies, 0.95):.1f}",
        f"{percentile(crc_fired.latencies, 0.99):.1f}",
    )  # fmt: skip
    agent_rows = (("agent pages under load", busy), ("baseline: agent pages, no webhooks", idle))
    for name, times in agent_rows:
        table.add_row(
            name, f"{len(times.pages):,}", "", f"{percentile(times.pages, 0.5):.1f}",
            f"{percentile(times.pages, 0.95):.1f}", f"{percentile(times.pages, 0.99):.1f}",
        )  # fmt: skip
    table.add_row(
        "agent replies under load", f"{len(busy.replies):,}", "",
        f"{percentile(busy.replies, 0.5):.1f}", f"{percentile(busy.replies, 0.95):.1f}",
        f"{percentile(busy.replies, 0.99):.1f}",
    )  # fmt: skip
    console.print(table)
    console.print(
        f"replies: {len(busy.replies)}; agent errors: {busy.errors + idle.errors}; "
        f"non-200 webhook answers: {fired.failures}"
    )
    console.print(
        f"acknowledged events: {warm_up + fired.acked:,} (incl. {warm_up} warm-up); stored as "
        f"messages: {stored:,}; failed raw events: {failed:,}; drained {drained:.1f} s after "
        f"the last send"
    )
    console.print(f"lost events: {lost}")
    verdict = {
        "ack p99 < 50 ms": percentile(fired.latencies, 0.99) < 50,
        "pages p95 < 150 ms": percentile(busy.pages, 0.95) < 150,
        "none lost": lost == 0,
    }
    console.print("targets: " + ", ".join(f"{k} {'✔' if ok else '✘'}" for k, ok in verdict.items()))
    return {
        "ack_p99": percentile(fired.latencies, 0.99),
        "page_p95": percentile(busy.pages, 0.95),
        "lost": float(lost),
        "replies": float(len(busy.replies)),
    }
