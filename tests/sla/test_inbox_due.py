"""The "Time due" sort and the "SLA at risk" view read index ranges (sla/views.due_page_ids):
same answers as sorting everything, across pages, with a pinned number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.actions import tickets as ticket_actions
from socialdesk.config import Settings
from socialdesk.domain.enums import TicketStatus
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import SlaClock, Ticket, User
from socialdesk.web.app import create_app
from socialdesk.web.pages import inbox as inbox_page
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import T0, ingest, make_account, post
from tests.sla.helpers import add_policy
from tests.web.test_pages import app_db, client, counting, sign_in
from tests.web.test_sla_pages import listed

__all__ = ["app_db", "client"]
PIPELINE = build_pipeline(Settings())


def minutes_ago(minutes: float) -> float:
    return (datetime.now(UTC) - T0).total_seconds() / 60 - minutes


def seed(db: Database, count: int) -> None:
    """``count`` tickets whose first responses fall due from long ago to an hour ahead
    (24/7 policy: first response 60 min, resolution 8 h), a few pending (no running due
    time) and one solved."""
    add_policy(db, calendar=None)
    account = make_account(db)
    ingest(
        db,
        *[
            post(
                account, f"d{i}", f"question {i}", author=f"u{i}", minutes=minutes_ago(i * 7 % 120)
            )
            for i in range(count)
        ],
        pipeline=PIPELINE,
    )
    with db.write() as s:
        agent = s.scalar(select(User).where(User.email == "agent@example.com"))
        assert agent is not None
        tickets = s.scalars(select(Ticket).order_by(Ticket.id)).all()
        for ticket in tickets[:3]:
            ticket_actions.set_status(s, ticket, agent, TicketStatus.PENDING)
        ticket_actions.set_status(s, tickets[3], agent, TicketStatus.SOLVED)


def expected(db: Database, *, at_risk: bool, newest: bool = False) -> list[int]:
    """The order by a plain sort of every unsolved ticket, computed here in Python."""
    now = utcnow()
    with db.session() as s:
        rows = s.execute(
            select(
                Ticket.id,
                Ticket.first_response_due_at,
                Ticket.next_response_due_at,
                Ticket.resolution_due_at,
                Ticket.next_due_at,
                Ticket.last_message_at,
            ).where(Ticket.status.in_(["new", "open", "pending", "on_hold"]))
        ).all()
        risky = set(
            s.scalars(
                select(SlaClock.ticket_id).where(
                    SlaClock.status == "running",
                    (SlaClock.warning_at <= now) | SlaClock.warned | SlaClock.breached,
                )
            )
        )
    keyed = []
    for r in rows:
        dues = [d for d in (r[1], r[2], r[3]) if d is not None]
        assert r.next_due_at == (min(dues) if dues else None)  # the computed column
        if newest and r.id in risky:
            keyed.append((False, r.last_message_at, r.id))
        elif not at_risk or r.id in risky:
            keyed.append((r.next_due_at is None, r.next_due_at or now, r.id))
    return [k[2] for k in sorted(keyed, reverse=newest)]


def test_due_sort_and_at_risk_view_match_a_full_sort_across_pages(
    client: TestClient, app_db: Database
) -> None:
    seed(app_db, 40)
    sign_in(client, "agent@example.com")
    want = expected(app_db, at_risk=False)
    assert len(want) == 39 and want[-3:] == sorted(want[-3:])  # pending ones last, by id
    got = listed(client.get("/inbox?view=open&sort=due").text) + listed(
        client.get("/inbox?view=open&sort=due&page=1").text
    )
    assert got == want
    risky = expected(app_db, at_risk=True)
    assert 10 < len(risky) < 39
    by_due = listed(client.get("/inbox?view=at_risk&sort=due").text)
    assert by_due == risky[:25]
    newest = listed(client.get("/inbox?view=at_risk").text)
    assert newest == expected(app_db, at_risk=True, newest=True)[:25]


@pytest.fixture
def quiet_client(app_db: Database) -> Iterator[TestClient]:
    """No background workers or live relay: their polls would land in the count."""
    app = create_app(Settings(run_workers=False, live_relay_seconds=0), app_db)
    with TestClient(app, follow_redirects=False) as c:
        yield c


def test_at_risk_page_query_count_is_pinned(quiet_client: TestClient, app_db: Database) -> None:
    client = quiet_client
    seed(app_db, 40)
    sign_in(client, "agent@example.com")
    client.get("/inbox?view=at_risk")
    inbox_page.forget_counts()
    with counting(app_db) as at_risk_queries:
        assert client.get("/inbox?view=at_risk").status_code == 200
    client.get("/inbox?view=at_risk&sort=due")
    with counting(app_db) as cached_queries:
        assert client.get("/inbox?view=at_risk&sort=due").status_code == 200
    # session + memberships, accounts, teams, saved filters, counts, SLA-at-risk count,
    # "Needs reply" and "Promises due" counts (cached with the counts), page ids (one
    # UNION ALL of index ranges), its rows, reach, SLA marks, members
    assert len(at_risk_queries) == 14, "\n".join(at_risk_queries)
    assert len(cached_queries) == 10, "\n".join(cached_queries)


def test_the_at_risk_count_is_the_at_risk_view(client: TestClient, app_db: Database) -> None:
    """The count reads the clocks' index alone: tickets that were at risk and then went
    pending or solved must not count, because their clocks stopped running."""
    seed(app_db, 40)
    before = expected(app_db, at_risk=True)
    with app_db.write() as s:
        agent = s.scalar(select(User).where(User.email == "agent@example.com"))
        assert agent is not None
        stopped = before[:2]
        statuses = (TicketStatus.PENDING, TicketStatus.SOLVED)
        for ticket_id, status in zip(stopped, statuses, strict=True):
            ticket = s.get(Ticket, ticket_id)
            assert ticket is not None
            ticket_actions.set_status(s, ticket, agent, status)
        assert ticket is not None
        agent_id, workspace_id = agent.id, ticket.workspace_id

    class Viewer:
        id = agent_id
        workspace_ids = (workspace_id,)

    risky = expected(app_db, at_risk=True)
    inbox_page.forget_counts()
    with app_db.session() as s:
        counted = inbox_page.counts_for(s, Viewer()).views["at_risk"]  # type: ignore[arg-type]
    assert not set(stopped) & set(risky) and len(risky) == len(before) - 2
    assert counted == len(risky) > 10
