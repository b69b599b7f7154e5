"""``socialdesk bench search``: ticket search over HTTP with many messages stored, against
the ``ILIKE '%…%'`` query the list ran before migration 0020, timed in the same run.

The seeded messages are real customer and brand tweets (twcs in ../shared/data, drawn
at random), so a real word's share of messages is the share it has in real support
traffic. Four messages per ticket (customer, brand, customer, brand); two tickets per
customer, each customer with a name, a handle and (one in four) an e-mail address.
The rare word is planted in ``RARE_COUNT`` messages; the common word is the real word
closest to ``COMMON_SHARE`` of messages. Seeding streams in chunks (nothing holds all
rows) with Core bulk inserts, so the search index is kept by the same path as the
pipeline's writes (SQLite triggers, PostgreSQL GIN indexes).

Each search is timed in ``rounds`` rounds of ``requests`` requests (the table shows the
median of the rounds' p50 and p95); the baseline is the pre-0020 list query with its
``ILIKE`` conditions, run in process (no HTTP around it, which favours it), with fewer
samples because each one reads every message.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import exists, or_, select

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.bench.common import median, percentile, scratch_database
from socialdesk.config import get_settings
from socialdesk.domain.enums import Platform, Role
from socialdesk.replay.twcs import read_rows
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.db import Database
from socialdesk.store.models import Contact, ContactIdentity, Message, Ticket
from socialdesk.store.models.base import table_of
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve

DATA_FILES = ("twcs_random_5000.csv", "twcs_head_5000.csv")
PASSWORD = "bench-password"  # noqa: S105 - a throwaway user in a scratch database
MESSAGES_PER_TICKET = 4
TICKETS_PER_CONTACT = 2
RARE_WORD = "zanzibarquokka"
RARE_COUNT = 5
COMMON_SHARE = 0.01
CHUNK_TICKETS = 5_000
PLATFORMS = [Platform.X] * 5 + [Platform.FACEBOOK, Platform.INSTAGRAM, Platform.EMAIL]
STATUSES = ["new", "open", "pending", "solved", "closed", "closed", "closed"]
FIRST = [
    "anna",
    "ben",
    "carla",
    "dev",
    "emma",
    "farid",
    "grace",
    "hiro",
    "ines",
    "jon",
    "kemal",
    "lena",
    "maya",
    "nico",
    "olga",
]
LAST = [
    "smith",
    "garcia",
    "müller",
    "tanaka",
    "okafor",
    "rossi",
    "novak",
    "silva",
    "kim",
    "dubois",
    "jensen",
    "ali",
]
_WORD = re.compile(r"[a-z]{4,}")


def texts(data_dir: Path) -> tuple[list[str], list[str]]:
    """Customer and brand tweets of the twcs slices in ``data_dir`` (the shared data)."""
    inbound: list[str] = []
    outbound: list[str] = []
    for name in DATA_FILES:
        path = data_dir / "twcs" / name
        if not path.exists():
            raise FileNotFoundError(f"{path} not found: --data-dir is the shared data folder")
        for row in read_rows(path)[0]:
            (inbound if row.inbound else outbound).append(row.text)
    return inbound, outbound


def common_word(inbound: list[str], outbound: list[str]) -> tuple[str, float]:
    """The real word whose share of seeded messages is closest to ``COMMON_SHARE``
    (half the messages are drawn from each list)."""
    share: dict[str, float] = {}
    for texts in (inbound, outbound):
        for text in texts:
            for word in set(_WORD.findall(text.lower())):
                share[word] = share.get(word, 0.0) + 0.5 / len(texts)
    word = min(sorted(share), key=lambda w: abs(share[w] - COMMON_SHARE))
    return word, share[word]


def phrase_with(word: str, inbound: list[str]) -> str:
    """The customers' most frequent two-word phrase that contains ``word``."""
    pairs: Counter[str] = Counter()
    for text in inbound:
        words = re.findall(r"[a-z']+", text.lower())
        pairs.update(f"{a} {b}" for a, b in pairwise(words) if word in (a, b))
    return pairs.most_common(1)[0][0] if pairs else word


def seed(db: Database, messages: int, data_dir: Path, progress: Progress) -> dict[str, Any]:
    """``messages`` messages on ``messages / 4`` tickets; returns what to search for."""
    rng = random.Random(17)
    inbound, outbound = texts(data_dir)
    word, share = common_word(inbound, outbound)
    with db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, "bench@example.com", PASSWORD, Role.AGENT, workspace=ws)
        accounts = [
            (
                create_channel_account(
                    s, None, workspace_id=ws.id, platform=p, handle=f"brand{i}",
                    external_id=f"{p}-{i}",
                ).id,
                str(p),
            )
            for i, p in enumerate(PLATFORMS)
        ]  # fmt: skip
        workspace_id = ws.id
    tickets_total = max(1, messages // MESSAGES_PER_TICKET)
    # Distinct tickets carry the rare word, spread over the whole range.
    rare_tickets = {tickets_total * (2 * i + 1) // (2 * RARE_COUNT) for i in range(RARE_COUNT)}
    start = datetime(2017, 10, 1, tzinfo=UTC)
    tables = {m: table_of(m) for m in (Contact, ContactIdentity, Ticket, Message)}
    task = progress.add_task(f"seeding {messages:,} messages", total=messages)
    written = 0
    handle_of_first = ""
    for first_ticket in range(0, tickets_total, CHUNK_TICKETS):
        n_tickets = min(CHUNK_TICKETS, tickets_total - first_ticket)
        n_contacts = -(-n_tickets // TICKETS_PER_CONTACT)
        contact_rows, identity_rows = [], []
        for i in range(n_contacts):
            number = first_ticket // TICKETS_PER_CONTACT + i
            first, last = FIRST[number % len(FIRST)], LAST[(number // 7) % len(LAST)]
            email = f"{first}.{last}{number}@example.com" if number % 4 == 0 else None
            contact_rows.append(
                {"workspace_id": workspace_id, "display_name": f"{first.title()} {last.title()}",
                 "email": email, "vip": False, "attributes": {}, "created_at": start}
            )  # fmt: skip
            identity_rows.append(
                {"workspace_id": workspace_id, "platform": "x", "external_user_id": f"u{number}",
                 "handle": f"{first}_{last}{number}", "display_name": f"{first} {last}",
                 "created_at": start}
            )  # fmt: skip
        handle_of_first = handle_of_first or str(identity_rows[0]["handle"])
        ticket_rows: list[dict[str, Any]] = []
        message_rows: list[dict[str, Any]] = []
        for i in range(n_tickets):
            number = first_ticket + i
            account_id, platform = accounts[rng.randrange(len(accounts))]
            first_at = start + timedelta(seconds=rng.randrange(60 * 60 * 24 * 60))
            bodies = [
                rng.choice(outbound if k % 2 else inbound) for k in range(MESSAGES_PER_TICKET)
            ]
            if number in rare_tickets:
                bodies[0] = f"{bodies[0]} {RARE_WORD}"
            ticket_rows.append(
                {"workspace_id": workspace_id, "contact_idx": i // TICKETS_PER_CONTACT,
                 "channel_account_id": account_id, "platform": platform,
                 "subject": bodies[0].splitlines()[0][:300] if bodies[0] else "",
                 "status": rng.choice(STATUSES), "priority": "normal", "needs_reply": True,
                 "message_count": MESSAGES_PER_TICKET, "first_message_at": first_at,
                 "last_message_at": first_at + timedelta(minutes=10 * (MESSAGES_PER_TICKET - 1)),
                 "sla_breached": False, "created_at": first_at, "updated_at": first_at,
                 "bodies": bodies}
            )  # fmt: skip
        with db.write() as s:
            conn = s.connection()
            contact_ids = insert_with_ids(conn, tables[Contact], contact_rows)
            insert_with_ids(
                conn,
                tables[ContactIdentity],
                [
                    {**row, "contact_id": cid}
                    for row, cid in zip(identity_rows, contact_ids, strict=True)
                ],
            )
            bodies_of: list[list[str]] = [row.pop("bodies") for row in ticket_rows]
            for row in ticket_rows:
                row["contact_id"] = contact_ids[int(row.pop("contact_idx"))]
            ticket_ids = insert_with_ids(conn, tables[Ticket], ticket_rows)
            for ticket_id, row, bodies in zip(ticket_ids, ticket_rows, bodies_of, strict=True):
                for k, body in enumerate(bodies):
                    at = row["first_message_at"] + timedelta(minutes=10 * k)
                    inbound_message = k % 2 == 0
                    message_rows.append(
                        {"ticket_id": ticket_id, "workspace_id": workspace_id,
                         "channel_account_id": row["channel_account_id"],
                         "platform": row["platform"],
                         "direction": "inbound" if inbound_message else "outbound",
                         "visibility": "public", "platform_message_id": f"b{ticket_id}-{k}",
                         "author_contact_id": row["contact_id"] if inbound_message else None,
                         "author_name": "customer" if inbound_message else "brand",
                         "body": body, "created_at": at, "received_at": at,
                         "delivery_state": "none" if inbound_message else "sent", "meta": {}}
                    )  # fmt: skip
            insert_with_ids(conn, tables[Message], message_rows)
        written += len(message_rows)
        progress.advance(task, len(message_rows))
    # PostgreSQL: VACUUM also merges the GIN indexes' pending lists, as autovacuum does
    # on a running desk; a query would otherwise scan the unmerged entries one by one.
    statement = "VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(statement)
    return {
        "messages": written,
        "tickets": tickets_total,
        "common": word,
        "common_share": share,
        "phrase": phrase_with(word, inbound),
        "handle": handle_of_first,
    }


def old_search(db: Database, text: str) -> int:
    """The list query as it was before migration 0020: ``ILIKE`` over every subject and
    every message of the workspace, newest first, the first page of 25."""
    t = Ticket
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = (
        select(t.id, t.subject, t.last_message_at, Contact.display_name)
        .outerjoin(Contact, Contact.id == t.contact_id)
        .where(
            or_(
                t.subject.ilike(pattern, escape="\\"),
                exists().where(Message.ticket_id == t.id, Message.body.ilike(pattern, escape="\\")),
            )
        )
        .order_by(t.last_message_at.desc(), t.id.desc())
        .limit(26)
    )
    with db.session() as s:
        return len(s.execute(query).all())


def _time_http(client: httpx.Client, q: str, requests: int) -> tuple[list[float], int]:
    first = client.get("/api/v1/tickets", params={"q": q})
    first.raise_for_status()
    found = len(first.json()["data"])
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get("/api/v1/tickets", params={"q": q})
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples, found


def _time_call(run: Callable[[], int], requests: int) -> tuple[list[float], int]:
    found = run()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, found


def run_search_bench(
    console: Console,
    *,
    messages: int,
    requests: int,
    rounds: int,
    baseline_requests: int,
    database_url: str | None,
    data_dir: Path,
) -> dict[str, tuple[float, float, int]]:
    """Prints the table; returns per row (median p50, median p95, tickets on page one)."""
    with scratch_database(database_url) as db:
        with Progress(console=console) as progress:
            started = time.perf_counter()
            seeded = seed(db, messages, data_dir, progress)
        console.log(f"seeded in {time.perf_counter() - started:.0f} s on {db.engine.dialect.name}")
        common = seeded["common"]
        searches = {
            f"rare word ({RARE_WORD}, {RARE_COUNT} messages)": RARE_WORD,
            f"common word ({common}, {seeded['common_share']:.1%} of messages)": common,
            f"@handle (@{seeded['handle']})": f"@{seeded['handle']}",
            f'phrase ("{seeded["phrase"]}") + channel:x': f'"{seeded["phrase"]}" channel:x',
        }
        baselines = {
            f"baseline: ILIKE rare word ({RARE_WORD}, in process)": RARE_WORD,
            f"baseline: ILIKE common word ({common}, in process)": common,
        }
        results: dict[str, list[tuple[float, float]]] = {}
        found: dict[str, int] = {}
        with (
            serve(create_app(get_settings(), db)) as base_url,
            httpx.Client(base_url=base_url, timeout=120) as client,
        ):
            token = client.post(
                "/api/v1/auth/token", json={"email": "bench@example.com", "password": PASSWORD}
            ).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            for _ in range(rounds):
                for name, q in searches.items():
                    samples, found[name] = _time_http(client, q, requests)
                    results.setdefault(name, []).append(
                        (percentile(samples, 0.5), percentile(samples, 0.95))
                    )
                for name, q in baselines.items():
                    samples, found[name] = _time_call(partial(old_search, db, q), baseline_requests)
                    results.setdefault(name, []).append(
                        (percentile(samples, 0.5), percentile(samples, 0.95))
                    )
                console.log(f"round {len(next(iter(results.values())))} of {rounds} done")
        title = (
            f"bench search: {seeded['messages']:,} messages on {seeded['tickets']:,} tickets "
            f"({db.engine.dialect.name}); first page of 25, newest first; median of {rounds} "
            f"rounds of {requests} requests ({baseline_requests} for baselines)"
        )
    table = Table(title=title)
    for column in ("query", "p50 ms", "p95 ms", "tickets found (page 1)"):
        table.add_column(column, justify="right")
    summary: dict[str, tuple[float, float, int]] = {}
    for name, rows in results.items():
        p50, p95 = median([a for a, _ in rows]), median([b for _, b in rows])
        summary[name] = (p50, p95, found[name])
        table.add_row(name, f"{p50:.1f}", f"{p95:.1f}", str(found[name]))
    console.print(table)
    return summary
