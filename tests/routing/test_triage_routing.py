"""Routing and automation rules read the triage: sentiment, intent, topic, urgency.

Pure choices first (table-driven), then each door through the real pipeline: a team's
triage skills route a ticket, a rule's triage conditions act on it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.automation.admin import save_rule
from socialdesk.automation.rules import conditions_hold, validate_rule
from socialdesk.config import Settings
from socialdesk.domain.enums import Role
from socialdesk.routing.actions import configure_team, create_team
from socialdesk.routing.rules import TeamSpec, match_team, ticket_attributes, urgency_band
from socialdesk.store.db import Database
from socialdesk.store.models import Ticket, TicketTag
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import ingest, make_account, post

GENERAL = TeamSpec(1, "general", frozenset())
BILLING_FIRE = TeamSpec(2, "billing fire", frozenset({"topic:billing", "urgency:high"}))
ANGRY = TeamSpec(3, "recovery", frozenset({"sentiment:negative"}))
LUGGAGE = TeamSpec(4, "luggage", frozenset({"topic:lost luggage"}))
TEAMS = [GENERAL, BILLING_FIRE, ANGRY, LUGGAGE]


@pytest.mark.parametrize(
    ("urgency", "band"), [(None, None), (0, "low"), (39, "low"), (40, "medium"), (70, "high")]
)
def test_urgency_bands(urgency: int | None, band: str | None) -> None:
    assert urgency_band(urgency) == band


@pytest.mark.parametrize(
    ("attrs", "team"),
    [
        ({"topic": "Billing", "urgency": 80, "sentiment": "negative"}, 2),
        ({"topic": "Billing", "urgency": 45, "sentiment": "negative"}, 3),
        ({"topic": "Billing", "urgency": 45, "sentiment": "neutral"}, 1),
        ({"topic": "Lost luggage", "urgency": 10}, 4),
        ({"sentiment": "positive"}, 1),
        ({}, 1),  # no triage: the triage teams are out
    ],
)
def test_triage_skills_pick_the_team(attrs: dict[str, Any], team: int) -> None:
    found = match_team(TEAMS, ticket_attributes(platform="x", **attrs))
    assert found is not None and found.team.id == team


FACTS = {"sentiment": "negative", "intent": "complaint", "topic": "Billing", "urgency": 79}


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("sentiment", "is", "negative", True),
        ("sentiment", "in", ["neutral", "positive"], False),
        ("intent", "is", "complaint", True),
        ("topic", "is", "Billing", True),
        ("topic", "in", ["Lost luggage", "Delivery"], False),
        ("topic", "not", "billing", False),
        ("urgency", "gte", 70, True),
        ("urgency", "lt", 50, False),
    ],
)
def test_rule_conditions_on_triage(field: str, op: str, value: Any, expected: bool) -> None:
    cond = {"field": field, "op": op, "value": value}
    _, conditions, _ = validate_rule("ticket_created", [cond], [{"type": "close_as_noise"}])
    assert conditions_hold(conditions, FACTS) is expected


def test_urgency_conditions_take_numbers() -> None:
    with pytest.raises(ValueError, match="whole number"):
        validate_rule(
            "ticket_created",
            [{"field": "urgency", "op": "gte", "value": "high"}],
            [{"type": "close_as_noise"}],
        )


def test_unknown_urgency_never_holds() -> None:
    assert not conditions_hold([{"field": "urgency", "op": "gte", "value": 0}], {"urgency": None})


ANGRY_BILLING = "@AcmeSupport my card was charged twice and nobody answers, this is a scam!!"
QUESTION = "@AcmeSupport do you have the blue jacket in size M?"


def _tickets(db: Database) -> dict[str, Ticket]:
    with db.session() as s:
        return {t.subject: t for t in s.scalars(select(Ticket))}


def test_pipeline_routes_by_triage_skills(db: Database) -> None:
    with db.write() as s:
        ws = ensure_workspace(s)
        ana = create_user(s, "ana@ex.com", "correct horse battery", Role.AGENT, workspace=ws)
        bo = create_user(s, "bo@ex.com", "correct horse battery", Role.AGENT, workspace=ws)
        general = create_team(s, None, ws.id, "general")
        fire = create_team(s, None, ws.id, "billing fire")
        configure_team(s, None, general, members=[ana.id])
        configure_team(s, None, fire, skills=["topic:Billing", "urgency:high"], members=[bo.id])
        ids = {"general": general.id, "fire": fire.id, "ana": ana.id, "bo": bo.id}
    x = make_account(db)
    pipeline = build_pipeline(Settings())
    ingest(db, post(x, "a", ANGRY_BILLING, author="1"), pipeline=pipeline)
    ingest(db, post(x, "b", QUESTION, author="2"), pipeline=pipeline)
    tickets = _tickets(db)
    angry = next(t for subject, t in tickets.items() if "charged" in subject)
    asking = next(t for subject, t in tickets.items() if "jacket" in subject)
    assert (angry.team_id, angry.assignee_id) == (ids["fire"], ids["bo"])
    assert (asking.team_id, asking.assignee_id) == (ids["general"], ids["ana"])


def test_pipeline_rule_acts_on_triage_conditions(db: Database) -> None:
    with db.write() as s:
        save_rule(
            s,
            None,
            ensure_workspace(s).id,
            name="Hot billing",
            event="ticket_created",
            conditions=[
                {"field": "topic", "op": "is", "value": "Billing"},
                {"field": "urgency", "op": "gte", "value": 50},
                {"field": "sentiment", "op": "is", "value": "negative"},
            ],
            actions=[{"type": "add_tag", "tag": "hot-billing"}],
        )
    x = make_account(db)
    pipeline = build_pipeline(Settings())
    ingest(db, post(x, "a", ANGRY_BILLING, author="1"), pipeline=pipeline)
    ingest(db, post(x, "b", QUESTION, author="2"), pipeline=pipeline)
    with db.session() as s:
        tagged = s.scalars(select(TicketTag.ticket_id).where(TicketTag.tag == "hot-billing")).all()
    angry = next(t for subject, t in _tickets(db).items() if "charged" in subject)
    assert tagged == [angry.id]
