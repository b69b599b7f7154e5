"""The "SLA at risk" and "Promises due" counts built on the flag counters (migration 0046)
always equal the straightforward reads of every clock and promise: after each kind of
transition through the real actions, pipeline and periodic scan (start, warning crossed
before and after a scan, breach, pause, resume, re-target that withdraws a warning,
solve, reopen, several clocks per ticket, promises made, kept, fallen due, tickets
deleted, multi-row Core updates), read at several instants. Runs on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from alembic import command
from sqlalchemy import delete, func, select, update

from socialdesk.actions import tickets as ticket_actions
from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.automation.step import run_sla_cycle
from socialdesk.config import Settings
from socialdesk.domain.enums import Priority, Role, TicketStatus
from socialdesk.sla import views as sla_views
from socialdesk.store.db import Database, utcnow
from socialdesk.store.migrate import alembic_config, upgrade
from socialdesk.store.models import (
    FlaggedTicket,
    FlaggedTicketCount,
    FollowUp,
    SlaClock,
    Ticket,
    User,
)
from socialdesk.store.repos.tickets import due_promise_count, due_promises
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import T0, ingest, make_account, post
from tests.sla.helpers import add_policy

PIPELINE = build_pipeline(Settings())
# Urgent tickets get a much shorter target, so a priority change moves warning instants
# across "now" both ways.
TARGETS = [
    {
        "channel": None,
        "priority": "urgent",
        "first_response_minutes": 10,
        "next_response_minutes": 10,
        "resolution_minutes": 60,
    },
    {
        "channel": None,
        "priority": None,
        "first_response_minutes": 60,
        "next_response_minutes": 30,
        "resolution_minutes": 480,
    },
]
LATER = (timedelta(0), timedelta(minutes=10), timedelta(hours=1), timedelta(hours=3),
         timedelta(hours=10), -timedelta(hours=2))  # fmt: skip


def _minutes_ago(minutes: float) -> float:
    return (utcnow() - T0).total_seconds() / 60 - minutes


def _slow_promises(db: Database, workspace_ids: list[int], now: datetime) -> int:
    promised = due_promises(now, workspace_ids).subquery()
    with db.session() as s:
        return int(s.scalar(select(func.count(func.distinct(promised.c.ticket_id)))) or 0)


def _check(db: Database, workspace_id: int, step: str) -> tuple[int, int]:
    """Fast and slow counts agree at several instants; the counters agree with the rows."""
    now = utcnow()
    ids = [workspace_id, workspace_id + 1000]  # a workspace without rows changes nothing
    with db.session() as s:
        for later in LATER:
            at = now + later
            fast = sla_views.at_risk_count(s, ids, at)
            slow = sla_views.at_risk_count_by_clocks(s, ids, at)
            assert fast == slow, f"{step}: at risk at now + {later}: {fast} != {slow}"
            fast = due_promise_count(s, ids, at)
            assert fast == _slow_promises(db, ids, at), f"{step}: promises due at now + {later}"
        warned = Counter(
            s.scalars(
                select(SlaClock.ticket_id).where(
                    SlaClock.status == "running", SlaClock.warned.is_(True)
                )
            )
        )
        overdue = Counter(
            s.scalars(
                select(FollowUp.ticket_id).where(
                    FollowUp.status == "open", FollowUp.overdue_at.is_not(None)
                )
            )
        )
        rows = {(r.kind, r.ticket_id): r.row_count for r in s.scalars(select(FlaggedTicket))}
        truth = {("sla_warned", t): n for t, n in warned.items()}
        truth |= {("promise_overdue", t): n for t, n in overdue.items()}
        assert rows == truth, step
        counts = {
            r.kind: r.ticket_count for r in s.scalars(select(FlaggedTicketCount)) if r.ticket_count
        }
        expected = {k: n for k, n in (("sla_warned", len(warned)),
                                      ("promise_overdue", len(overdue))) if n}  # fmt: skip
        assert counts == expected, step
        return (
            sla_views.at_risk_count(s, ids, now),
            due_promise_count(s, ids, now),
        )


def test_fast_counts_equal_the_plain_reads_across_transitions(db: Database) -> None:
    add_policy(db, calendar=None, targets=TARGETS)
    account = make_account(db)
    with db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, "agent@example.com", "correct horse battery", Role.AGENT, workspace=ws)
        workspace_id = ws.id
    ages = [5, 30, 40, 50, 70, 100, 200, 400, 500]
    ingest(
        db,
        *[
            post(account, f"p{i}", f"question {i}", author=f"u{i}", minutes=_minutes_ago(age))
            for i, age in enumerate(ages)
        ],
        pipeline=PIPELINE,
    )
    with db.session() as s:
        tickets = list(s.scalars(select(Ticket.id).order_by(Ticket.id)))
    assert len(tickets) == len(ages)
    seen: list[tuple[int, int]] = [_check(db, workspace_id, "started, no scan yet")]

    def scan(step: str, at: datetime) -> None:
        run_sla_cycle(db, at)
        seen.append(_check(db, workspace_id, step))

    scan("first scan: warnings and breaches marked", utcnow())
    a, b, c, d, e = tickets[1], tickets[2], tickets[3], tickets[5], tickets[7]

    # Each action in its own transaction, through the same action functions the doors use.
    def run(step: str, ticket_id: int, how: Callable[..., object], *args: object) -> None:
        with db.write() as s:
            ticket = s.get(Ticket, ticket_id)
            agent = s.scalar(select(User).where(User.email == "agent@example.com"))
            assert ticket is not None and agent is not None
            how(s, ticket, agent, *args)
        seen.append(_check(db, workspace_id, step))

    run("pending pauses warned clocks", d, ticket_actions.set_status, TicketStatus.PENDING)
    run("open resumes them", d, ticket_actions.set_status, TicketStatus.OPEN)
    # 30 minutes in: urgent (10 min first response) puts the warning instant in the past
    # with no scan yet, and normal again withdraws it.
    run("urgent: warning crossed before a scan", a, ticket_actions.set_priority, Priority.URGENT)
    scan("scan marks the urgent ticket", utcnow())
    run("normal again: the warning is withdrawn", a, ticket_actions.set_priority, Priority.NORMAL)
    run("solve fulfils every clock", e, ticket_actions.set_status, TicketStatus.SOLVED)
    run("reopen", e, ticket_actions.set_status, TicketStatus.OPEN)
    run(
        "a promise in a reply",
        b,
        lambda s, t, u, body: ticket_actions.reply(s, t, u, body),
        "So sorry! I'll get back to you in an hour with the courier's answer.",
    )
    run(
        "a second promise on another ticket",
        c,
        lambda s, t, u, body: ticket_actions.reply(s, t, u, body),
        "I'll get back to you in an hour.",
    )
    # Two hours on: warnings ahead of the real now are marked, the promises fall due.
    scan("scan two hours ahead", utcnow() + timedelta(hours=2))
    run(
        "a promise kept",
        b,
        lambda s, t, u, body: ticket_actions.reply(s, t, u, body, status_after=None),
        "The courier found it.",
    )
    ingest(
        db,
        post(account, "again", "still waiting?", author="u4", minutes=_minutes_ago(1)),
        pipeline=PIPELINE,
    )
    seen.append(_check(db, workspace_id, "a customer message starts a next-response clock"))
    with db.write() as s:  # retention's delete: clocks and promises go with the ticket
        s.execute(delete(Ticket).where(Ticket.id == c))
    seen.append(_check(db, workspace_id, "ticket deleted"))
    with db.write() as s:  # multi-row statements, both directions
        s.execute(update(SlaClock).where(SlaClock.status == "running").values(warned=True))
    seen.append(_check(db, workspace_id, "every running clock marked in one statement"))
    with db.write() as s:
        s.execute(update(SlaClock).values(warned=False))
    seen.append(_check(db, workspace_id, "every clock unmarked in one statement"))
    scan("scan after the unmarking", utcnow())
    with db.write() as s:
        s.execute(delete(FollowUp))
        s.execute(delete(SlaClock).where(SlaClock.ticket_id.in_(tickets[:4])))
    seen.append(_check(db, workspace_id, "rows deleted"))
    # The walk went through non-trivial states: tickets at risk and promises due.
    assert max(r for r, _ in seen) >= 3 and max(p for _, p in seen) >= 1, seen


def test_the_migration_fills_the_counters_from_existing_rows(
    db: Database, database_url: str
) -> None:
    add_policy(db, calendar=None, targets=TARGETS)
    account = make_account(db)
    with db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, "agent@example.com", "correct horse battery", Role.AGENT, workspace=ws)
        workspace_id = ws.id
    ingest(
        db,
        *[
            post(account, f"m{i}", f"question {i}", author=f"u{i}", minutes=_minutes_ago(age))
            for i, age in enumerate([5, 50, 70, 500])
        ],
        pipeline=PIPELINE,
    )
    with db.write() as s:
        agent = s.scalar(select(User).where(User.email == "agent@example.com"))
        ticket = s.scalar(select(Ticket).order_by(Ticket.id).limit(1))
        assert agent is not None and ticket is not None
        ticket_actions.reply(s, ticket, agent, "I'll get back to you in an hour.")
    run_sla_cycle(db, utcnow() + timedelta(hours=2))
    before = _check(db, workspace_id, "before the round trip")
    assert before[0] >= 3 and before[1] == 1
    command.downgrade(alembic_config(database_url), "0041")
    upgrade(database_url)
    assert _check(db, workspace_id, "filled by the migration") == before
