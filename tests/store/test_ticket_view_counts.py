"""The view counters the tickets' triggers keep (migration 0045) always equal a count of
the tickets themselves: after inserts (ORM and Core bulk), every kind of move between
keys (status, account, team, assignee, needs reply, waiting since), deletes, and the
inbox's counts built on them. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from sqlalchemy import delete, insert, select, update

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.domain.enums import Platform, Role, TicketStatus
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import Team, Ticket, TicketViewCount
from socialdesk.web.pages import inbox_views
from socialdesk.web.sessions import WebUser

Key = tuple[int, str, int, int, int, int]


def _counted(db: Database) -> Counter[Key]:
    with db.session() as s:
        return Counter(
            {
                (r.workspace_id, r.status, r.channel_account_id, r.team_id, r.assignee_id,
                 r.needs_reply): r.ticket_count
                for r in s.scalars(select(TicketViewCount))
                if r.ticket_count
            }
        )  # fmt: skip


def _truth(db: Database) -> Counter[Key]:
    with db.session() as s:
        return Counter(
            (t.workspace_id, t.status, t.channel_account_id or 0, t.team_id or 0,
             t.assignee_id or 0, int(bool(t.needs_reply and t.awaiting_since is not None)))
            for t in s.scalars(select(Ticket))
        )  # fmt: skip


def test_counters_follow_every_kind_of_ticket_write(db: Database) -> None:
    now = utcnow()
    with db.write() as s:
        ws = ensure_workspace(s)
        accounts = [
            create_channel_account(
                s, None, workspace_id=ws.id, platform=Platform.MASTODON,
                handle=f"brand{i}@example.social", external_id=f"b{i}",
            ).id
            for i in range(2)
        ]  # fmt: skip
        users = [
            create_user(
                s, f"a{i}@example.com", "correct horse battery", Role.AGENT, workspace=ws
            ).id
            for i in range(2)
        ]
        team = Team(workspace_id=ws.id, name="Care")
        s.add(team)
        s.flush()
        teams = [team.id]
        workspace_id = ws.id
    rng = random.Random(45)
    statuses = [str(s) for s in TicketStatus]

    def fields() -> dict[str, object]:
        return {
            "status": rng.choice(statuses),
            "channel_account_id": rng.choice([None, *accounts]),
            "team_id": rng.choice([None, *teams]),
            "assignee_id": rng.choice([None, *users]),
            "needs_reply": rng.random() < 0.6,
            "awaiting_since": rng.choice([None, now]),
        }

    with db.write() as s:  # ORM inserts
        for _ in range(40):
            s.add(Ticket(workspace_id=workspace_id, platform="mastodon", first_message_at=now,
                         last_message_at=now, **fields()))  # fmt: skip
    with db.write() as s:  # a Core bulk insert, as replay and the benchmarks write
        s.execute(
            insert(Ticket),
            [
                {"workspace_id": workspace_id, "platform": "x", "first_message_at": now,
                 "last_message_at": now, **fields()}
                for _ in range(40)
            ],
        )  # fmt: skip
    assert _counted(db) == _truth(db)
    with db.session() as s:
        ids = list(s.scalars(select(Ticket.id)))
    for _ in range(60):  # moves of one field at a time, and of several
        chosen = rng.sample(ids, 5)
        change = fields()
        if rng.random() < 0.7:
            name = rng.choice(list(change))
            change = {name: change[name]}
        with db.write() as s:
            s.execute(update(Ticket).where(Ticket.id.in_(chosen)).values(**change))
        assert _counted(db) == _truth(db), change
    with db.write() as s:  # an update that changes no counted column leaves them as they are
        s.execute(update(Ticket).values(subject="renamed", last_message_at=now + timedelta(1)))
    assert _counted(db) == _truth(db)
    gone = rng.sample(ids, 20)
    with db.write() as s:
        s.execute(delete(Ticket).where(Ticket.id.in_(gone)))
    assert _counted(db) == _truth(db)

    # The inbox's counts, read from the counters, equal a count of the tickets.
    inbox_views.forget_counts()
    viewer = WebUser(id=users[0], email="a0@example.com", name="a0", role=Role.AGENT,
                     csrf_token="-", session_id=0, workspace_ids=(workspace_id,))  # fmt: skip
    with db.session() as s:
        counts = inbox_views.counts_for(s, viewer)
        tickets = list(s.scalars(select(Ticket)))
    unsolved = [t for t in tickets if t.status not in ("solved", "closed")]
    assert counts.views["open"] == len(unsolved)
    assert counts.views["mine"] == sum(t.assignee_id == users[0] for t in unsolved)
    assert counts.views["unassigned"] == sum(t.assignee_id is None for t in unsolved)
    assert counts.views["solved"] == sum(t.status == "solved" for t in tickets)
    waiting = {"new", "open", "on_hold"}
    assert counts.views["needs_reply"] == sum(
        bool(t.needs_reply) and t.awaiting_since is not None and t.status in waiting
        for t in tickets
    )
    for account in accounts:
        assert counts.by_account.get(account, 0) == sum(
            t.channel_account_id == account for t in unsolved
        )
