"""``socialdesk bench pages``: the inbox page and the conversation page over HTTP, as a
signed-in agent, with many tickets stored.

Every unsolved ticket also gets SLA clocks as the scan would have left them now (see
``_add_sla``), so the "SLA at risk" view and the "Time due" sort are measured on a full
queue. Each page is timed in ``rounds`` rounds; the table shows the median of the rounds'
p50 and p95. The baseline rows time, in the same run and in process, the queries those
two pages ran before migration 0008 (a sort of every unsolved ticket by a computed due
time, and an at-risk subquery over every running clock).
"""

from __future__ import annotations

import html
import random
import re
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import bindparam, case, func, or_, select, update

from socialdesk.bench.common import median, percentile, scratch_database
from socialdesk.bench.seeding import BENCH_EMAIL, BENCH_PASSWORD, analyze, seed_tickets
from socialdesk.config import get_settings
from socialdesk.sla import views as sla_views
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import Message, SlaClock, SlaPolicy, Ticket, User
from socialdesk.store.models.base import table_of
from socialdesk.store.repos.tickets import (
    TicketFilter,
    due_promise_count,
    due_promises,
    list_tickets,
    view_condition,
)
from socialdesk.web.app import create_app
from socialdesk.web.pages import inbox as inbox_page
from socialdesk.web.pages import inbox_views
from socialdesk.web.serving import serve

MESSAGES_PER_TICKET = 6
# SLA clocks of the seeded queue: a first response (new tickets) and a resolution, started
# uniformly over the last 30 hours, so some are breached, some past their warning share
# and most still fine; pending tickets' clocks are paused.
SLA_TARGETS = {"first_response": timedelta(minutes=60), "resolution": timedelta(hours=24)}
SLA_SPREAD = timedelta(hours=30)
WARN_SHARE = 0.75


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


def _clock_row(ticket_id: int, workspace_id: int, policy_id: int, target: str, start: Any,
               now: Any, paused: bool) -> dict[str, Any]:  # fmt: skip
    duration = SLA_TARGETS[target]
    due, warning = start + duration, start + duration * WARN_SHARE
    warned, breached = warning < now, due < now
    if paused:  # paused at once: no deadline approaches
        return {
            "ticket_id": ticket_id, "workspace_id": workspace_id, "policy_id": policy_id,
            "target": target, "cycle": 1, "target_seconds": duration.total_seconds(),
            "warn_share": WARN_SHARE, "status": "paused", "started_at": start,
            "running_since": None, "paused_since": start, "elapsed_seconds": 0.0,
            "due_at": None, "warning_at": None, "warned": False, "breached": False,
            "breached_at": None, "fulfilled_at": None, "next_check_at": None,
        }  # fmt: skip
    return {
        "ticket_id": ticket_id, "workspace_id": workspace_id, "policy_id": policy_id,
        "target": target, "cycle": 1, "target_seconds": duration.total_seconds(),
        "warn_share": WARN_SHARE, "status": "running", "started_at": start,
        "running_since": start, "paused_since": None, "elapsed_seconds": 0.0,
        "due_at": due, "warning_at": warning, "warned": warned or breached,
        "breached": breached, "breached_at": due if breached else None, "fulfilled_at": None,
        "next_check_at": None if breached else (due if warned else warning),
    }  # fmt: skip


def _add_sla(db: Database, progress: Progress) -> int:
    """SLA clocks and due times for every unsolved ticket; returns how many tickets."""
    rng = random.Random(5)
    now = utcnow()
    with db.write() as s:
        workspace_id = s.scalar(select(Ticket.workspace_id).limit(1))
        assert workspace_id is not None, "seed the tickets first"
        policy = SlaPolicy(
            workspace_id=workspace_id, name="bench", channels=[],
            targets=[{"channel": None, "priority": None, "first_response_minutes": 60,
                      "next_response_minutes": None, "resolution_minutes": 24 * 60}],
            calendar=None, pause_on_hold=False, warn_share=WARN_SHARE, position=0,
            enabled=True, created_at=now,
        )  # fmt: skip
        s.add(policy)
        s.flush()
        policy_id = policy.id
        rows = s.execute(
            select(Ticket.id, Ticket.status)
            .where(Ticket.status.in_(["new", "open", "pending", "on_hold"]))
            .order_by(Ticket.id)
        ).all()
    task = progress.add_task(f"SLA clocks for {len(rows):,} unsolved tickets", total=len(rows))
    tickets, clocks = table_of(Ticket), table_of(SlaClock)
    for offset in range(0, len(rows), 10_000):
        part = rows[offset : offset + 10_000]
        clock_rows, ticket_updates = [], []
        for ticket_id, status in part:
            start = now - SLA_SPREAD * rng.random()
            paused = status == "pending"
            targets = ["first_response", "resolution"] if status == "new" else ["resolution"]
            made = [
                _clock_row(ticket_id, workspace_id, policy_id, t, start, now, paused)
                for t in targets
            ]
            clock_rows.extend(made)
            due = {c["target"]: c["due_at"] for c in made}
            ticket_updates.append(
                {
                    "b_id": ticket_id,
                    "sla_policy_id": policy_id,
                    "first_response_due_at": due.get("first_response"),
                    "resolution_due_at": due.get("resolution"),
                    "sla_breached": any(c["breached"] for c in made),
                }
            )
        with db.write() as s:
            conn = s.connection()
            insert_with_ids(conn, clocks, clock_rows)
            conn.execute(
                update(tickets)
                .where(tickets.c.id == bindparam("b_id"))
                .values(
                    sla_policy_id=bindparam("sla_policy_id"),
                    first_response_due_at=bindparam("first_response_due_at"),
                    resolution_due_at=bindparam("resolution_due_at"),
                    sla_breached=bindparam("sla_breached"),
                ),
                ticket_updates,
            )
        progress.advance(task, len(part))
    analyze(db)
    return len(rows)


def _old_page(db: Database, workspace_id: int, *, at_risk: bool) -> None:
    """The page query before migration 0008 (the baseline): every unsolved ticket sorted
    by the earliest of its due columns; at risk through a subquery of running clocks."""
    t, c = Ticket, SlaClock
    now = utcnow()

    def least(a: Any, b: Any) -> Any:
        return case((a.is_(None), b), (b.is_(None), a), (a <= b, a), else_=b)

    due = least(least(t.first_response_due_at, t.next_response_due_at), t.resolution_due_at)
    query = select(t.id).where(
        t.workspace_id.in_([workspace_id]),
        t.status.in_(["new", "on_hold", "open", "pending"]),
    )
    if at_risk:
        risky = (
            select(c.ticket_id)
            .where(
                c.workspace_id.in_([workspace_id]),
                c.status == "running",
                or_(c.breached.is_(True), c.warned.is_(True), c.warning_at <= now, c.due_at <= now),
            )
            .distinct()
        )
        query = query.where(t.id.in_(risky))
    with db.session() as s:
        s.scalars(query.order_by(due.is_(None), due, t.id).offset(0).limit(26)).all()


def _needs_reply_page(db: Database, workspace_id: int, *, baseline: bool) -> None:
    """The "Needs reply" page query, or (``baseline``) the same rows sorted as a plain
    query would without ``ix_tickets_ws_needs_reply``: every waiting ticket read and
    sorted by how long it has waited (the index is dropped in a rolled-back
    transaction, on both backends)."""
    t = Ticket
    waiting = (
        t.workspace_id.in_([workspace_id]),
        t.needs_reply.is_(True),
        t.status.in_(["new", "on_hold", "open"]),
    )
    if not baseline:
        with db.session() as s:
            list_tickets(s, TicketFilter([workspace_id], view="needs_reply"), sort="oldest")
        return
    key = func.coalesce(t.awaiting_since, t.last_message_at)
    with db.write_engine.connect() as conn:
        transaction = conn.begin()
        try:
            conn.exec_driver_sql("DROP INDEX ix_tickets_ws_needs_reply")
            conn.execute(select(t.id).where(*waiting).order_by(key, t.id).limit(26)).all()
        finally:
            transaction.rollback()


def _uncounted_view_counts(db: Database, workspace_id: int) -> None:
    """The two counts of a miss that depend on the clock, "At risk" (SLA warning times
    passed) and "Promises due": the trigger-kept flag counts plus the rows crossed since
    the last scan (migration 0046)."""
    with db.session() as s:
        sla_views.at_risk_count(s, [workspace_id], utcnow())
        due_promise_count(s, [workspace_id], utcnow())


def _clock_read_counts(db: Database, workspace_id: int) -> None:
    """The same two counts before migration 0046 (a baseline): every running clock past
    its warning instant and every open promise, read from their indexes."""
    with db.session() as s:
        sla_views.at_risk_count_by_clocks(s, [workspace_id], utcnow())
        promised = due_promises(utcnow(), [workspace_id]).subquery()
        s.scalar(select(func.count(func.distinct(promised.c.ticket_id))))


def _time_in_process(run: Any, requests: int) -> list[float]:
    run()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _sign_in(client: httpx.Client) -> None:
    form = client.get("/login").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert match
    response = client.post(
        "/login",
        data={"email": BENCH_EMAIL, "password": BENCH_PASSWORD, "csrf_token": match.group(1)},
    )
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed: {response.status_code}")


Samples = tuple[list[float], list[float]]  # ms of requests that hit / missed the counts


def _time(client: httpx.Client, paths: list[str], requests: int, *, miss: bool) -> Samples:
    """Time ``requests`` GETs; each is filed as a count-cache hit or miss by whether the
    page computed its counts (``miss`` forgets the cached counts before each request)."""
    for path in paths[:10]:
        client.get(path).raise_for_status()
    hits: list[float] = []
    misses: list[float] = []
    for i in range(requests):
        if miss:
            inbox_page.forget_counts()
        before = inbox_views.count_misses
        started = time.perf_counter()
        response = client.get(paths[i % len(paths)])
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        (misses if inbox_views.count_misses != before else hits).append(elapsed)
    return hits, misses


def _next_link(client: httpx.Client, path: str) -> str:
    """The list's "next page" link (a keyset cursor), as an agent would follow it."""
    found = re.search(r'href="(/inbox\?[^"]*cursor=[^"]*)"', client.get(path).text)
    # A tiny seed (the suite's) fits on one page: time that page again.
    return html.unescape(found.group(1)) if found else path


def _old_counts(db: Database, workspace_id: int) -> None:
    """The view counts before migration 0018 (the baseline): the old query, grouped by
    expressions of the assignee, with the old indexes (the new one is dropped inside a
    transaction that is rolled back, on both backends)."""
    t = Ticket
    with db.write_engine.connect() as conn:
        transaction = conn.begin()
        try:
            conn.exec_driver_sql("DROP INDEX ix_tickets_ws_counts")
            conn.execute(
                select(
                    t.status, t.channel_account_id, t.team_id,
                    t.assignee_id.is_(None).label("unassigned"),
                    case((t.assignee_id == -1, True), else_=False).label("mine"), func.count(),
                )
                .where(
                    t.workspace_id.in_([workspace_id]),
                    t.status.in_(["new", "on_hold", "open", "pending", "solved"]),
                )
                .group_by(t.status, t.channel_account_id, t.team_id, "unassigned", "mine")
            ).all()  # fmt: skip
            conn.execute(
                select(func.count(t.id)).where(
                    t.id.in_(sla_views.at_risk_tickets([workspace_id], utcnow())),
                    t.status.in_(["new", "on_hold", "open", "pending"]),
                )
            ).scalar()
        finally:
            transaction.rollback()


def _index_counts(db: Database, workspace_id: int) -> None:
    """The view counts before migration 0045 (a baseline): the grouped read of
    ``ix_tickets_ws_counts`` and the count of every ticket waiting for a reply, instead
    of the counter rows the triggers keep."""
    t = Ticket
    with db.session() as s:
        s.execute(
            select(t.status, t.channel_account_id, t.team_id, t.assignee_id, func.count())
            .where(
                t.workspace_id.in_([workspace_id]),
                t.status.in_(["new", "on_hold", "open", "pending", "solved"]),
            )
            .group_by(t.workspace_id, t.status, t.channel_account_id, t.team_id, t.assignee_id)
        ).all()
        s.scalar(
            select(func.count(t.id)).where(
                t.workspace_id.in_([workspace_id]), view_condition("needs_reply")
            )
        )
    _clock_read_counts(db, workspace_id)


def _new_counts(db: Database, user: Any) -> None:
    inbox_page.forget_counts()
    with db.session() as s:
        inbox_page.counts_for(s, user)


def _cell(values: list[float]) -> str:
    return f"{median(values):.1f}" if values else ""


def run_pages_bench(
    console: Console, *, tickets: int, requests: int, database_url: str | None, rounds: int = 3
) -> None:
    with scratch_database(database_url) as db:
        with Progress(console=console) as progress:
            accounts = seed_tickets(db, tickets, progress)
            unsolved = _add_sla(db, progress)
        title = (
            f"bench pages: server-rendered pages with {tickets:,} tickets ({unsolved:,} "
            f"unsolved, with SLA clocks); median of {rounds} rounds of {requests} requests; "
            "requests that computed the view counts (count-cache misses) apart"
        )
        table = Table(title=title)
        for column in (
            "page", "hit p50 ms", "hit p95 ms", "miss p50 ms", "miss p95 ms", "misses", "bytes"
        ):  # fmt: skip
            table.add_column(column, justify="right")
        ticket_ids = _add_threads(db, 200)
        some_account = next(v for k, v in accounts.items() if k.startswith("x-"))
        cases = {
            "inbox: needs reply (the default), longest wait": ["/inbox"],
            "inbox: needs reply, page 2 (cursor)": [],  # filled below: a real next link
            "inbox: all open, newest": ["/inbox?view=open"],
            "inbox: unassigned, channel x": ["/inbox?view=unassigned&channel=x"],
            "inbox: one account": [f"/inbox?view=open&account={some_account}"],
            "inbox: open, most urgent": ["/inbox?view=open&sort=urgent"],
            "inbox: SLA at risk": ["/inbox?view=at_risk"],
            "inbox: SLA at risk, time due": ["/inbox?view=at_risk&sort=due"],
            "inbox: open, time due": ["/inbox?view=open&sort=due"],
            "inbox: open, time due, page 5": ["/inbox?view=open&sort=due&page=4"],
            "conversation page": [f"/tickets/{i}" for i in ticket_ids],
        }
        # Each request computes the counts afresh: what the first agent to open the inbox
        # after the cache expires waits for.
        forced_misses = {"inbox: all open, newest, counts cache miss": ["/inbox?view=open"]}
        with db.session() as s:
            workspace_id = s.scalar(select(Ticket.workspace_id).limit(1))
            agent_id = s.scalar(select(User.id).where(User.email == BENCH_EMAIL))
        assert workspace_id is not None and agent_id is not None
        agent = SimpleNamespace(id=agent_id, workspace_ids=(workspace_id,))
        baselines = {
            "baseline: pre-0008 at-risk query (in process)": lambda: _old_page(
                db, workspace_id, at_risk=True
            ),
            "baseline: pre-0008 time due query (in process)": lambda: _old_page(
                db, workspace_id, at_risk=False
            ),
            "needs reply page query (in process)": lambda: _needs_reply_page(
                db, workspace_id, baseline=False
            ),
            "baseline: needs reply sorted without its index (in process)": lambda: (
                _needs_reply_page(db, workspace_id, baseline=True)
            ),
            "of a miss: the at-risk + promises due counts (in process)": lambda: (
                _uncounted_view_counts(db, workspace_id)
            ),
            "baseline: the at-risk + promises due counts before 0046 (in process)": lambda: (
                _clock_read_counts(db, workspace_id)
            ),
            "view counts on a miss (in process)": lambda: _new_counts(db, agent),
            "baseline: view counts before 0045 (in process)": lambda: _index_counts(
                db, workspace_id
            ),
            "baseline: view counts before 0018 (in process)": lambda: _old_counts(db, workspace_id),
        }
        results: dict[str, list[tuple[Samples, bool]]] = {}
        sizes: dict[str, int] = {}
        inbox_page.forget_counts()
        with (
            serve(create_app(get_settings(), db)) as base_url,
            httpx.Client(base_url=base_url, follow_redirects=False, timeout=60) as client,
        ):
            _sign_in(client)
            cases["inbox: needs reply, page 2 (cursor)"] = [_next_link(client, "/inbox")]
            for _ in range(rounds):
                for name, paths in [*cases.items(), *forced_misses.items()]:
                    started = time.perf_counter()
                    samples = _time(client, paths, requests, miss=name in forced_misses)
                    console.log(f"{name}: {time.perf_counter() - started:.1f} s")
                    sizes[name] = len(client.get(paths[0]).content)
                    results.setdefault(name, []).append((samples, True))
                for name, run in baselines.items():
                    # Fewer samples: each run of the old queries reads the whole queue.
                    timed = _time_in_process(run, max(5, requests // 10))
                    results.setdefault(name, []).append(((timed, []), False))
        for name, found in results.items():
            hit50 = [percentile(h, 0.5) for (h, _), _http in found if h]
            hit95 = [percentile(h, 0.95) for (h, _), _http in found if h]
            miss50 = [percentile(m, 0.5) for (_, m), _http in found if m]
            miss95 = [percentile(m, 0.95) for (_, m), _http in found if m]
            missed = sum(len(m) for (_, m), _http in found)
            http = found[0][1]
            table.add_row(
                name, _cell(hit50), _cell(hit95), _cell(miss50), _cell(miss95),
                str(missed) if http else "", f"{sizes[name]:,}" if name in sizes else "",
            )  # fmt: skip
    console.print(table)
    console.print(
        "In-process rows time the query alone (their figures sit in the hit columns); "
        "misses are requests that computed the view counts."
    )
