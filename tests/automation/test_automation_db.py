"""Rules through the real pipeline, agent actions and the SLA scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.actions.tickets import reply
from socialdesk.automation.admin import save_rule
from socialdesk.automation.rules import out_of_hours_acknowledgement
from socialdesk.automation.step import run_sla_cycle
from socialdesk.config import Settings
from socialdesk.domain.enums import Role
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import (
    FollowUp,
    Message,
    Notification,
    OutboxEntry,
    Team,
    Ticket,
    TicketEvent,
)
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import T0, ingest, make_account, post
from tests.sla.helpers import add_policy, ticket_of

PIPELINE = build_pipeline(Settings())


def add_rule(db: Database, **rule: Any) -> int:
    with db.write() as s:
        return save_rule(s, None, ensure_workspace(s).id, **rule).id


def auto_replies(db: Database) -> list[Message]:
    with db.session() as s:
        return list(
            s.scalars(
                select(Message).where(Message.author_name == "automation").order_by(Message.id)
            )
        )


def test_out_of_hours_post_is_acknowledged_once_routed_and_due_next_morning(db: Database) -> None:
    add_policy(db)  # New York office hours; T0 is Tuesday 18:10 there
    with db.write() as s:
        ws = ensure_workspace(s)
        team = Team(workspace_id=ws.id, name="orders", skills=[], created_at=utcnow())
        s.add(team)
        s.flush()
        team_id = team.id
    add_rule(db, **out_of_hours_acknowledgement())
    add_rule(
        db,
        name="orders to the orders team",
        event="ticket_created",
        conditions=[{"field": "text", "op": "contains", "value": "order"}],
        actions=[{"type": "assign_team", "team_id": team_id}],
    )
    acct = make_account(db)
    ingest(db, post(acct, "1", "@AcmeSupport my order never arrived"), pipeline=PIPELINE)
    ingest(db, post(acct, "2", "hello??", reply_to="1", minutes=5), pipeline=PIPELINE)
    # A brand reply whose parent has not arrived yet opens a ticket: never acknowledged.
    ingest(
        db,
        post(acct, "3", "@bob thanks!", outbound=True, reply_to="77", minutes=6),
        pipeline=PIPELINE,
    )
    assert ticket_of(db, "3").id != ticket_of(db, "1").id

    ticket = ticket_of(db, "1")
    assert ticket.team_id == team_id
    assert ticket.first_response_due_at == datetime(2017, 11, 1, 14, tzinfo=UTC)
    [ack] = auto_replies(db)
    assert ack.ticket_id == ticket.id and ack.delivery_state == "queued"
    assert "9:00 AM Wednesday EDT" in ack.body
    with db.session() as s:
        assert s.scalar(select(OutboxEntry.message_id)) == ack.id
        kinds = list(
            s.scalars(
                select(TicketEvent.kind).where(
                    TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "rule_fired"
                )
            )
        )
    assert len(kinds) == 2  # the ack rule and the team rule, on ticket creation only
    # The auto-acknowledgement does not count as a first response.
    assert ticket.first_response_at is None and ticket.needs_reply


def test_rules_cannot_loop(db: Database) -> None:
    add_rule(
        db,
        name="noise",
        event="ticket_created",
        conditions=[{"field": "text", "op": "matches", "value": r"^\s*(?:follow me|f4f)\b"}],
        actions=[{"type": "close_as_noise"}],
    )
    add_rule(
        db,
        name="close again on every status change",
        event="status_change",
        conditions=[],
        actions=[{"type": "close_as_noise"}, {"type": "add_tag", "tag": "noise"}],
    )
    acct = make_account(db)
    ingest(db, post(acct, "1", "f4f follow me back"), pipeline=PIPELINE)
    ticket = ticket_of(db, "1")
    assert ticket.status == "closed"
    with db.session() as s:
        fired = list(s.scalars(select(TicketEvent.data).where(TicketEvent.kind == "rule_fired")))
    assert [f["rule"] for f in fired] == ["noise", "close again on every status change"]


def test_sla_breach_rule_notifies_the_lead(db: Database) -> None:
    add_policy(db, calendar=None)
    with db.write() as s:
        lead = create_user(
            s, "lead@ex.com", "correct horse battery", Role.LEAD, workspace=ensure_workspace(s)
        )
        lead_id = lead.id
    add_rule(
        db,
        name="tell the lead",
        event="sla_breach",
        conditions=[{"field": "sla_target", "op": "is", "value": "first_response"}],
        actions=[
            {"type": "notify", "user_id": lead_id, "message": "first response breached"},
            {"type": "set_priority", "priority": "urgent"},
        ],
    )
    acct = make_account(db)
    ingest(db, post(acct, "1", "hello?"), pipeline=PIPELINE)
    run_sla_cycle(db, T0 + timedelta(minutes=61))
    with db.session() as s:
        [note] = s.scalars(select(Notification)).all()
        assert note.user_id == lead_id and note.body == "first response breached"
    assert ticket_of(db, "1").priority == "urgent"


def test_agent_promise_schedules_a_follow_up(db: Database) -> None:
    acct = make_account(db)
    ingest(db, post(acct, "1", "where is my parcel"), pipeline=PIPELINE)
    ticket_id = ticket_of(db, "1").id
    with db.write() as s:
        agent = create_user(
            s, "a@ex.com", "correct horse battery", Role.AGENT, workspace=ensure_workspace(s)
        )
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        reply(s, ticket, agent, "Sorry! We'll DM you tomorrow with the tracking number.")
    with db.session() as s:
        [follow_up] = s.scalars(select(FollowUp)).all()
        assert follow_up.phrase.startswith("We'll DM you tomorrow")
        assert follow_up.status == "open" and follow_up.user_id == agent.id
    with db.write() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        reply(s, ticket, agent, "Here it is: 1Z999")
    with db.session() as s:
        assert s.scalar(select(FollowUp.status)) == "done"
