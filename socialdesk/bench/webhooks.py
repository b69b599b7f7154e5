"""``socialdesk bench webhooks``: signed X and Meta webhooks from concurrent clients.

Measures what the networks see: acknowledged events per second and the latency of each
acknowledgement, over real HTTP on loopback, with every delivery verified, stored as a
raw event and committed before the 200 (on SQLite, into the inbox spool that the worker
drains into ``raw_events``). Afterwards it waits for the worker to turn them into
messages (``ticketed/s``: messages stored per second from the first delivery to the
last message, the rate the desk keeps up with) and checks that nothing was lost. The
server runs in its own process, as in production, so the load generator does not share
its interpreter. The baseline, in the same run, is the same number of requests to an
endpoint that does the signature work but stores nothing (X's CRC challenge).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.bench.common import median, percentile, scratch_database
from socialdesk.channels.signatures import meta_signature, x_signature
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform
from socialdesk.replay.twcs import read_rows
from socialdesk.store.db import Database
from socialdesk.store.models import Message, RawEvent
from socialdesk.web.serving import serve_in_subprocess

X_SECRET = "bench-consumer-secret"  # noqa: S105 - a scratch secret for a scratch database
META_SECRET = "bench-app-secret"  # noqa: S105
VERIFY_TOKEN = "bench-verify"  # noqa: S105
BRAND_X = "2244994945"
PAGE = "1029384756"
# method, path, body, headers
Request = tuple[str, str, bytes | None, dict[str, str]]
DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "twcs" / "twcs_random_5000.csv"


def _texts() -> list[str]:
    rows, _ = read_rows(DATA) if DATA.exists() else ([], {})
    return [r.text for r in rows if r.inbound] or ["my order has not arrived"]


def build_deliveries(count: int, start: int = 0) -> list[tuple[str, bytes, dict[str, str]]]:
    """Half X mentions, half Facebook comments, each with its real signature header;
    event ids are numbered from ``start`` (so two batches never share an event)."""
    texts = _texts()
    out = []
    for i in range(start, start + count):
        text = texts[i % len(texts)]
        if i % 2 == 0:
            body = json.dumps(
                {
                    "for_user_id": BRAND_X,
                    "tweet_create_events": [
                        {
                            "id_str": str(9_000_000_000 + i),
                            "text": text,
                            "created_at": "Tue Oct 31 22:10:47 +0000 2017",
                            "timestamp_ms": "1509487847000",
                            "user": {
                                "id_str": str(100_000 + i % 3000),
                                "screen_name": f"c{i % 3000}",
                                "name": "Customer",
                                "followers_count": i % 900,
                            },
                            "in_reply_to_status_id_str": None,
                        }
                    ],
                }
            ).encode()
            out.append(
                ("/hooks/x", body, {"x-twitter-webhooks-signature": x_signature(X_SECRET, body)})
            )
        else:
            body = json.dumps(
                {
                    "object": "page",
                    "entry": [
                        {
                            "id": PAGE,
                            "time": 1509487847000,
                            "changes": [
                                {
                                    "field": "feed",
                                    "value": {
                                        "item": "comment",
                                        "verb": "add",
                                        "comment_id": f"{PAGE}_1_{i}",
                                        "post_id": f"{PAGE}_1",
                                        "parent_id": f"{PAGE}_1",
                                        "message": text,
                                        "created_time": 1509487847,
                                        "from": {
                                            "id": str(500_000 + i % 3000),
                                            "name": f"Customer {i % 3000}",
                                        },
                                    },
                                }
                            ],
                        }
                    ],
                },
                ensure_ascii=True,
            ).encode()
            out.append(
                ("/hooks/meta", body, {"X-Hub-Signature-256": meta_signature(META_SECRET, body)})
            )
    return out


def encode(host: str, request: Request) -> bytes:
    method, path, body, headers = request
    lines = [f"{method} {path} HTTP/1.1", f"host: {host}"]
    if body is not None:
        lines += ["content-type: application/json", f"content-length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


async def read_status(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _fire(
    base_url: str, requests: Sequence[Request], clients: int
) -> tuple[float, list[float], int]:
    """Send ``requests`` over ``clients`` keep-alive connections; elapsed s, latencies ms.

    The load generator is a bare HTTP/1.1 client (requests encoded before the clock
    starts) so that on a small machine the CPU goes to the server under test, the way
    the networks' own senders would not share our cores.
    """
    url = httpx.URL(base_url)
    host, port = url.host, url.port or 80
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(encode(f"{host}:{port}", item))

    async def client_loop() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while not queue.empty():
                payload = queue.get_nowait()
                started = time.perf_counter()
                writer.write(payload)
                status = await read_status(reader)
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    failures += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return time.perf_counter() - started, latencies, failures


def _count(db: Database, model: Any) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def one_run(events: int, clients: int, database_url: str | None) -> dict[str, float]:
    settings = Settings(
        x_consumer_secret=X_SECRET, meta_app_secret=META_SECRET, meta_verify_token=VERIFY_TOKEN
    )
    deliveries = build_deliveries(events)
    with scratch_database(database_url) as db:
        with db.write() as s:
            ws = ensure_workspace(s)
            create_channel_account(
                s,
                None,
                workspace_id=ws.id,
                platform=Platform.X,
                handle="AcmeSupport",
                external_id=BRAND_X,
            )
            create_channel_account(
                s,
                None,
                workspace_id=ws.id,
                platform=Platform.FACEBOOK,
                handle="Acme",
                external_id=PAGE,
            )
        with serve_in_subprocess(db.url, settings, separate_worker=True) as base_url:
            crc: list[Request] = [
                ("GET", f"/hooks/x?crc_token=token{i}", None, {}) for i in range(events)
            ]
            base_seconds, base_lat, _ = asyncio.run(_fire(base_url, crc, clients))
            posts: list[Request] = [("POST", p, b, h) for p, b, h in deliveries]
            posting_started = time.monotonic()
            seconds, lat, failures = asyncio.run(_fire(base_url, posts, clients))
            deadline = time.monotonic() + 300
            while _count(db, Message) < events and time.monotonic() < deadline:
                time.sleep(0.05)
            ticketed_seconds = time.monotonic() - posting_started
            messages = _count(db, Message)
            # Acknowledged deliveries are in raw_events, or (SQLite) still in the spool.
            spooled = db.inbox_spool.count() if db.inbox_spool is not None else 0
            stored_raw = _count(db, RawEvent) + spooled
    return {
        "rate": events / seconds,
        "ticketed_rate": messages / ticketed_seconds,
        "p50": percentile(lat, 0.5),
        "p99": percentile(lat, 0.99),
        "base_rate": events / base_seconds,
        "base_p99": percentile(base_lat, 0.99),
        "failures": failures,
        "raw": stored_raw,
        "messages": messages,
    }


def run_webhook_bench(
    console: Console, *, events: int, clients: int, runs: int, database_url: str | None
) -> None:
    backend = "SQLite" if not database_url or database_url.startswith("sqlite") else "PostgreSQL"
    table = Table(
        title=f"bench webhooks: {events:,} signed X+Meta events, {clients} clients, {backend}"
    )
    for column in (
        "run",
        "acked/s",
        "p50 ms",
        "p99 ms",
        "ticketed/s",
        "base/s",
        "base p99",
        "ratio",
        "non-200",
        "raw",
        "msgs",
    ):
        table.add_column(column, justify="right")
    results = []
    with console.status("running…"):
        for run in range(1, runs + 1):
            r = one_run(events, clients, database_url)
            results.append(r)
            table.add_row(
                str(run),
                f"{r['rate']:,.0f}",
                f"{r['p50']:.1f}",
                f"{r['p99']:.1f}",
                f"{r['ticketed_rate']:,.0f}",
                f"{r['base_rate']:,.0f}",
                f"{r['base_p99']:.1f}",
                f"{r['rate'] / r['base_rate']:.2f}",
                str(int(r["failures"])),
                f"{int(r['raw']):,}",
                f"{int(r['messages']):,}",
            )
    table.add_row(
        "median",
        f"{median([r['rate'] for r in results]):,.0f}",
        f"{median([r['p50'] for r in results]):.1f}",
        f"{median([r['p99'] for r in results]):.1f}",
        f"{median([r['ticketed_rate'] for r in results]):,.0f}",
        f"{median([r['base_rate'] for r in results]):,.0f}",
        f"{median([r['base_p99'] for r in results]):.1f}",
        f"{median([r['rate'] / r['base_rate'] for r in results]):.2f}",
        "",
        "",
        "",
    )
    console.print(table)
    lost = [r for r in results if r["raw"] != events or r["messages"] != events]
    console.print(
        "[green]no event lost[/]" if not lost else f"[red]events lost in {len(lost)} run(s)[/]"
    )
