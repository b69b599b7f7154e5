"""What the benchmarks seed, in one place, through the product's own actions.

Accounts and users are made by the same actions the API and settings pages call
(``create_channel_account``, ``create_user``), so a rule those actions gain (a Mastodon
handle names its instance, a password policy) reaches the benchmarks too; the suite runs
every bench at a tiny size (tests/bench), so a seed that drifts fails there. Tickets at
bench sizes are bulk-inserted (the pipeline would take minutes for 200,000), but each row
starts from ``ticket_row``, which names only columns an insert may set.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.progress import Progress

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.domain.enums import Platform, Role
from socialdesk.replay.twcs import read_rows
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.db import Database
from socialdesk.store.models import Contact, Ticket
from socialdesk.store.models.base import table_of

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "twcs" / "twcs_random_5000.csv"
BENCH_EMAIL = "bench@example.com"
# A throwaway agent in a scratch database; long and mixed so any password policy takes it.
BENCH_PASSWORD = "Bench-agent-passphrase-2026!"  # noqa: S105
PLATFORMS = [Platform.X] * 5 + [
    Platform.FACEBOOK,
    Platform.INSTAGRAM,
    Platform.EMAIL,
    Platform.MASTODON,
]
STATUSES = ["new", "open", "pending", "on_hold", "solved", "solved", "closed", "closed", "closed"]
CHUNK = 10_000


def brand_handle(platform: Platform, n: int) -> str:
    """A handle each network's account rules accept (a Mastodon handle names its
    instance; an e-mail account is an address)."""
    if platform == Platform.MASTODON:
        return f"brand{n}@mastodon.example"
    if platform == Platform.EMAIL:
        return f"support{n}@brand.example"
    return f"brand{n}"


def brand_accounts(db: Database, platforms: list[Platform]) -> tuple[int, dict[str, int]]:
    """The workspace, a bench agent and one account per entry of ``platforms``; returns
    the workspace id and account ids by ``"<platform>-<n>"``."""
    with db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, BENCH_EMAIL, BENCH_PASSWORD, Role.AGENT, workspace=ws)
        accounts = {
            f"{p}-{i}": create_channel_account(
                s,
                None,
                workspace_id=ws.id,
                platform=p,
                handle=brand_handle(p, i),
                external_id=f"{p}-{i}",
            ).id
            for i, p in enumerate(platforms)
        }
        return ws.id, accounts


def ticket_row(**values: Any) -> dict[str, Any]:
    """A tickets row for a bulk insert. Columns left out get the model's defaults (Core
    applies them); naming a column an insert may not set (the generated ``next_due_at``)
    or one the model no longer has fails here, at the seed, not deep in the driver."""
    allowed = {c.name for c in table_of(Ticket).columns if c.computed is None}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not insertable ticket columns: {sorted(unknown)}")
    return dict(values)


def first_lines() -> list[str]:
    texts = (
        [r.text.splitlines()[0][:300] for r in read_rows(DATA)[0] if r.inbound]
        if DATA.exists()
        else []
    )
    return texts or ["My order has not arrived"]


def seed_tickets(db: Database, count: int, progress: Progress) -> dict[str, int]:
    """``count`` tickets over 20 accounts with real first lines, statuses spread like a
    desk's history; returns account ids."""
    rng = random.Random(7)
    texts = first_lines()
    workspace_id, accounts = brand_accounts(db, PLATFORMS * 2)
    account_items = list(accounts.items())
    start = datetime(2017, 10, 1, tzinfo=UTC)
    task = progress.add_task(f"seeding {count:,} tickets", total=count)
    contacts = table_of(Contact)
    tickets = table_of(Ticket)
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
                    ticket_row(
                        workspace_id=workspace_id,
                        contact_id=contact_ids[i],
                        channel_account_id=account_id,
                        platform=key.split("-")[0],
                        subject=texts[rng.randrange(len(texts))],
                        status=rng.choice(STATUSES),
                        needs_reply=True,
                        # Waiting since the customer's last word, as the pipeline keeps it.
                        awaiting_since=last,
                        message_count=1,
                        first_message_at=first,
                        last_message_at=last,
                        sla_breached=False,
                        created_at=first,
                        updated_at=last,
                    )
                )
            insert_with_ids(conn, tickets, rows)
        progress.advance(task, n)
    analyze(db)
    return accounts


def analyze(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
