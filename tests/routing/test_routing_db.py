"""Routing through the pipeline and reassignment when an agent goes away."""

from __future__ import annotations

from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.domain.enums import Role
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.routing.actions import configure_team, set_availability
from socialdesk.routing.step import RoutingStep
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import Team, Ticket, TicketEvent, User
from tests.pipeline.helpers import ingest, make_account, post

PIPELINE = Pipeline(steps=[RoutingStep()])


def setup_teams(db: Database, strategy: str = "least_loaded") -> dict[str, int]:
    ids: dict[str, int] = {}
    with db.write() as s:
        ws = ensure_workspace(s)
        for email in ("ana", "ben", "cy", "mo"):
            ids[email] = create_user(
                s, f"{email}@ex.com", "correct horse battery", Role.AGENT, workspace=ws
            ).id
        support = Team(workspace_id=ws.id, name="support", skills=[], created_at=utcnow())
        tier2 = Team(workspace_id=ws.id, name="tier 2", skills=["language:zz"], created_at=utcnow())
        marketing = Team(
            workspace_id=ws.id, name="marketing", skills=["channel:instagram"], created_at=utcnow()
        )
        s.add_all([support, tier2, marketing])
        s.flush()
        configure_team(s, None, tier2, members=[ids["cy"]])
        configure_team(
            s,
            None,
            support,
            strategy=strategy,
            overflow_team_id=tier2.id,
            members=[ids["ana"], ids["ben"]],
        )
        configure_team(s, None, marketing, members=[ids["mo"]])
        ids.update(support=support.id, tier2=tier2.id, marketing=marketing.id)
    return ids


def assignees(db: Database) -> list[int | None]:
    with db.session() as s:
        return list(s.scalars(select(Ticket.assignee_id).order_by(Ticket.id)))


def test_round_robin_within_the_matching_team_with_explanation(db: Database) -> None:
    ids = setup_teams(db, "round_robin")
    acct = make_account(db)
    ingest(
        db,
        *(post(acct, str(i), f"help {i}", author=f"u{i}", minutes=i) for i in range(3)),
        pipeline=PIPELINE,
    )
    assert assignees(db) == [ids["ana"], ids["ben"], ids["ana"]]
    with db.session() as s:
        event = s.scalar(select(TicketEvent).where(TicketEvent.kind == "assigned"))
        assert event is not None and event.actor == "routing"
        assert event.data["team"]["name"] == "support" and event.data["strategy"] == "round_robin"
        assert "round robin" in event.data["reason"]


def test_channel_skill_sends_instagram_to_marketing(db: Database) -> None:
    from socialdesk.domain.enums import Platform

    ids = setup_teams(db)
    acct = make_account(db, Platform.INSTAGRAM, "brand_ig")
    ingest(db, post(acct, "1", "love it!", platform=Platform.INSTAGRAM), pipeline=PIPELINE)
    assert assignees(db) == [ids["mo"]]


def test_capacity_and_shift_then_overflow(db: Database) -> None:
    ids = setup_teams(db)
    with db.write() as s:
        for name in ("ana", "ben"):
            user = s.get(User, ids[name])
            assert user is not None
            set_availability(s, None, user, max_open_tickets=1)
    acct = make_account(db)
    ingest(
        db,
        *(post(acct, str(i), f"help {i}", author=f"u{i}", minutes=i) for i in range(3)),
        pipeline=PIPELINE,
    )
    assert assignees(db) == [ids["ana"], ids["ben"], ids["cy"]]
    with db.session() as s:
        teams = list(s.scalars(select(Ticket.team_id).order_by(Ticket.id)))
    assert teams == [ids["support"], ids["support"], ids["tier2"]]


def test_going_off_shift_reassigns_open_tickets(db: Database) -> None:
    ids = setup_teams(db)
    acct = make_account(db)
    ingest(db, post(acct, "1", "help"), pipeline=PIPELINE)
    assert assignees(db) == [ids["ana"]]
    with db.write() as s:
        ana = s.get(User, ids["ana"])
        assert ana is not None
        moved = set_availability(s, None, ana, on_shift=False)
    assert len(moved) == 1 and assignees(db) == [ids["ben"]]
    with db.session() as s:
        event = s.scalars(
            select(TicketEvent).where(TicketEvent.kind == "assigned").order_by(TicketEvent.id)
        ).all()[-1]
        assert event.data["because"] == f"user {ids['ana']} went off shift"
        assert event.data["to"] == ids["ben"]
