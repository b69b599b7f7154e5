"""``time_elapsed`` rules: table-driven conditions, validation, and the periodic scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.automation.elapsed import time_facts
from socialdesk.automation.rules import conditions_hold, validate_rule
from socialdesk.automation.step import run_sla_cycle
from socialdesk.config import Settings
from socialdesk.domain.enums import Role
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import Notification, Team, TicketEvent
from socialdesk.wiring.pipeline import build_pipeline
from tests.automation.test_automation_db import add_rule
from tests.pipeline.helpers import T0, ingest, make_account, post
from tests.sla.helpers import add_policy, ticket_of

PIPELINE = build_pipeline(Settings())
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SILENT_2H = {"field": "minutes_since_last_customer_message", "op": "gte", "value": 120}


def _ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("conditions", "last_customer", "status_changed", "expected"),
    [
        ([SILENT_2H], _ago(120), _ago(5), True),  # exactly at the threshold
        ([SILENT_2H], _ago(119.9), _ago(500), False),  # 119 whole minutes
        ([SILENT_2H], None, _ago(500), False),  # the customer never wrote
        ([{**SILENT_2H, "op": "gt"}], _ago(120), None, False),
        ([{**SILENT_2H, "op": "gt"}], _ago(121), None, True),
        (
            [{"field": "minutes_since_status_change", "op": "gte", "value": 60 * 24}],
            _ago(10),
            _ago(60 * 24 + 1),
            True,
        ),
        (
            [{"field": "minutes_since_status_change", "op": "gte", "value": 60 * 24}],
            _ago(10),
            _ago(60 * 23),
            False,
        ),
        (  # a window: silent for 2 hours but not yet a day
            [
                SILENT_2H,
                {"field": "minutes_since_last_customer_message", "op": "lt", "value": 1440},
            ],
            _ago(2000),
            None,
            False,
        ),
        (
            [
                SILENT_2H,
                {"field": "minutes_since_last_customer_message", "op": "lt", "value": 1440},
            ],
            _ago(300),
            None,
            True,
        ),
    ],
)
def test_time_conditions(
    conditions: list[dict[str, Any]],
    last_customer: datetime | None,
    status_changed: datetime | None,
    expected: bool,
) -> None:
    facts = time_facts(NOW, last_customer, status_changed)
    assert conditions_hold(conditions, facts) is expected


@pytest.mark.parametrize(
    ("event", "conditions", "actions", "error"),
    [
        ("time_elapsed", [], [{"type": "add_tag", "tag": "x"}], "minutes_since_"),
        (
            "time_elapsed",
            [{**SILENT_2H, "op": "lte"}],
            [{"type": "add_tag", "tag": "x"}],
            "gte or gt",
        ),
        ("ticket_created", [SILENT_2H], [{"type": "add_tag", "tag": "x"}], "time_elapsed"),
        ("time_elapsed", [SILENT_2H], [{"type": "set_status", "status": "closed"}], "status"),
    ],
)
def test_time_rules_are_validated(
    event: str, conditions: list[Any], actions: list[Any], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        validate_rule(event, conditions, actions)


def _fired(db: Database, ticket_id: int) -> list[str]:
    with db.session() as s:
        rows = s.scalars(
            select(TicketEvent.data).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "rule_fired"
            )
        )
        return [d["rule"] for d in rows]


def test_pending_tickets_are_solved_after_two_hours_of_silence_once(db: Database) -> None:
    add_policy(db, calendar=None)
    add_rule(
        db,
        name="auto-solve silent pending tickets",
        event="time_elapsed",
        conditions=[{"field": "status", "op": "is", "value": "pending"}, SILENT_2H],
        actions=[{"type": "set_status", "status": "solved"}, {"type": "add_tag", "tag": "auto"}],
    )
    add_rule(
        db,
        name="still open after 3 hours",
        event="time_elapsed",
        conditions=[
            {"field": "status", "op": "in", "value": ["new", "open"]},
            {"field": "minutes_since_status_change", "op": "gte", "value": 180},
        ],
        actions=[{"type": "set_priority", "priority": "high"}],
    )
    acct = make_account(db)
    ingest(db, post(acct, "1", "@AcmeSupport where is my parcel"), pipeline=PIPELINE)
    ingest(
        db,
        post(acct, "2", "@sam sent it!", outbound=True, reply_to="1", minutes=5),
        pipeline=PIPELINE,
    )
    ingest(db, post(acct, "3", "@AcmeSupport app broken", author="9", minutes=1), pipeline=PIPELINE)
    pending, waiting = ticket_of(db, "1"), ticket_of(db, "3")
    assert pending.status == "pending" and waiting.status == "new"

    run_sla_cycle(db, T0 + timedelta(minutes=119))
    assert _fired(db, pending.id) == [] and _fired(db, waiting.id) == []

    run_sla_cycle(db, T0 + timedelta(minutes=121))
    pending = ticket_of(db, "1")
    assert pending.status == "solved" and pending.resolution_due_at is None
    assert _fired(db, pending.id) == ["auto-solve silent pending tickets"]
    assert _fired(db, waiting.id) == []

    for minutes in (181, 182, 600):
        run_sla_cycle(db, T0 + timedelta(minutes=minutes))
    assert _fired(db, pending.id) == ["auto-solve silent pending tickets"]
    assert _fired(db, waiting.id) == ["still open after 3 hours"]
    assert ticket_of(db, "3").priority == "high"
    with db.session() as s:
        kinds = list(s.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == pending.id)))
    assert "sla_fulfilled" in kinds and kinds.count("status_changed") == 2


@pytest.mark.parametrize(
    ("action", "error"),
    [
        ({"type": "notify_email", "message": "hi"}, "needs to, user_id or team_id"),
        ({"type": "notify_email", "message": "hi", "to": "not-an-address"}, "e-mail address"),
        ({"type": "notify_email", "to": "lead@ex.com"}, "needs message"),
    ],
)
def test_notify_email_is_validated(action: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        validate_rule("ticket_created", [], [action])


def test_unanswered_tickets_are_escalated_and_mailed(db: Database) -> None:
    with db.write() as s:
        ws = ensure_workspace(s)
        lead = create_user(s, "lead@ex.com", "correct horse battery", Role.LEAD, workspace=ws)
        create_user(s, "agent@ex.com", "correct horse battery", Role.AGENT, workspace=ws)
        team = Team(workspace_id=ws.id, name="escalations", skills=[], created_at=utcnow())
        s.add(team)
        s.flush()
        lead_id, team_id = lead.id, team.id
    add_rule(
        db,
        name="unanswered for an hour",
        event="time_elapsed",
        conditions=[
            {"field": "status", "op": "in", "value": ["new", "open"]},
            {"field": "minutes_since_last_customer_message", "op": "gte", "value": 60},
        ],
        actions=[
            {"type": "escalate", "team_id": team_id},
            {"type": "notify_email", "user_id": lead_id, "to": "oncall@ex.com", "message": "late"},
        ],
    )
    acct = make_account(db)
    ingest(db, post(acct, "1", "@AcmeSupport my account was hacked"), pipeline=PIPELINE)
    run_sla_cycle(db, T0 + timedelta(minutes=61))
    run_sla_cycle(db, T0 + timedelta(minutes=120))  # once per ticket

    ticket = ticket_of(db, "1")
    assert ticket.priority == "urgent" and ticket.team_id == team_id
    with db.session() as s:
        notes = s.scalars(select(Notification).order_by(Notification.id)).all()
        in_app = [(n.user_id, n.kind) for n in notes if n.user_id is not None]
        [mail] = [n for n in notes if n.kind == "email"]
        kinds = list(s.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)))
    assert in_app == [(lead_id, "escalation")]  # leads only, not the agent
    assert mail.user_id is None and mail.body == "late" and mail.ticket_id == ticket.id
    assert mail.data["channel"] == "email" and mail.data["state"] == "not_configured"
    assert mail.data["to"] == ["lead@ex.com", "oncall@ex.com"]
    assert kinds.count("escalated") == 1 and kinds.count("notified") == 1


def test_escalate_from_the_pipeline_without_a_team(db: Database) -> None:
    add_rule(
        db,
        name="legal threats",
        event="ticket_created",
        conditions=[{"field": "text", "op": "contains", "value": "lawyer"}],
        actions=[{"type": "escalate", "message": "legal threat on X"}],
    )
    with db.write() as s:
        lead_id = create_user(
            s, "lead@ex.com", "correct horse battery", Role.LEAD, workspace=ensure_workspace(s)
        ).id
    acct = make_account(db)
    ingest(db, post(acct, "1", "@AcmeSupport my lawyer will call you"), pipeline=PIPELINE)
    ticket = ticket_of(db, "1")
    assert ticket.priority == "urgent" and ticket.team_id is None
    with db.session() as s:
        [note] = s.scalars(select(Notification)).all()
    assert (note.user_id, note.kind, note.body) == (lead_id, "escalation", "legal threat on X")
