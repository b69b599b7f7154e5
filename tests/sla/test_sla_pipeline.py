"""SLA clocks through the real pipeline, the agent actions and the periodic scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.actions.tickets import reply, set_status
from socialdesk.config import Settings
from socialdesk.domain.enums import Role, TicketStatus
from socialdesk.sla.scan import scan_sla
from socialdesk.store.db import Database
from socialdesk.store.models import SlaClock, Ticket
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import T0, ingest, make_account, post
from tests.sla.helpers import add_policy, events_of, ticket_of

PIPELINE = build_pipeline(Settings())


def test_out_of_hours_post_is_due_the_next_business_morning(db: Database) -> None:
    # T0 is Tuesday 2017-10-31 22:10 UTC = 18:10 in New York, after closing time.
    policy_id = add_policy(db)
    acct = make_account(db)
    ingest(db, post(acct, "1", "@AcmeSupport my order never arrived"), pipeline=PIPELINE)
    ticket = ticket_of(db, "1")
    # 60 business minutes from Wednesday 09:00 EDT = 10:00 EDT = 14:00 UTC.
    assert ticket.first_response_due_at == datetime(2017, 11, 1, 14, tzinfo=UTC)
    assert ticket.sla_policy_id == policy_id and not ticket.sla_breached
    # Resolution: 8 business hours → Wednesday 17:00 EDT.
    assert ticket.resolution_due_at == datetime(2017, 11, 1, 21, tzinfo=UTC)
    kinds = [(k, d["target"]) for k, d in events_of(db, ticket.id)]
    assert kinds == [("sla_started", "first_response"), ("sla_started", "resolution")]


def test_post_at_2359_before_a_holiday_waits_for_the_day_after(db: Database) -> None:
    add_policy(db)
    acct = make_account(db)
    # Wednesday 2017-11-22 23:59 EST; Thursday is Thanksgiving (US holiday).
    before_holiday = datetime(2017, 11, 23, 4, 59, tzinfo=UTC)
    message = post(acct, "h1", "help", minutes=(before_holiday - T0).total_seconds() / 60)
    ingest(db, message, pipeline=PIPELINE)
    # Friday 09:00 EST + 1 h = 15:00 UTC.
    assert ticket_of(db, "h1").first_response_due_at == datetime(2017, 11, 24, 15, tzinfo=UTC)


def test_without_a_policy_nothing_is_measured(db: Database) -> None:
    acct = make_account(db)
    ingest(db, post(acct, "1", "hello"), pipeline=PIPELINE)
    ticket = ticket_of(db, "1")
    assert ticket.first_response_due_at is None and events_of(db, ticket.id) == []


def test_brand_reply_and_follow_up_start_next_response(db: Database) -> None:
    add_policy(db, calendar=None)  # 24/7
    acct = make_account(db)
    ingest(
        db,
        post(acct, "1", "my order never arrived"),
        post(acct, "2", "sorry! DM us", outbound=True, reply_to="1", minutes=20),
        pipeline=PIPELINE,
    )
    ingest(db, post(acct, "3", "still nothing", reply_to="2", minutes=40), pipeline=PIPELINE)
    ticket = ticket_of(db, "1")
    assert ticket.first_response_due_at is None
    assert ticket.next_response_due_at == T0 + timedelta(minutes=70)
    kinds = [(k, d["target"]) for k, d in events_of(db, ticket.id)]
    assert kinds == [
        ("sla_started", "first_response"),
        ("sla_started", "resolution"),
        ("sla_fulfilled", "first_response"),
        ("sla_paused", "resolution"),
        ("sla_started", "next_response"),
        ("sla_resumed", "resolution"),
    ]


def test_mixed_batch_keeps_due_times_of_new_tickets(db: Database) -> None:
    add_policy(db, calendar=None)
    acct = make_account(db)
    ingest(db, post(acct, "1", "first"), pipeline=PIPELINE)
    ingest(
        db,
        post(acct, "2", "again", reply_to="1", minutes=5),
        post(acct, "9", "someone else", author="999", minutes=6),
        pipeline=PIPELINE,
    )
    assert ticket_of(db, "9").first_response_due_at == T0 + timedelta(minutes=66)


def test_agent_actions_fulfil_pause_and_resume(db: Database) -> None:
    add_policy(db, calendar=None)
    acct = make_account(db)
    ingest(db, post(acct, "1", "hello?"), pipeline=PIPELINE)
    ticket_id = ticket_of(db, "1").id
    with db.write() as s:
        agent = create_user(
            s, "a@example.com", "correct horse battery", Role.AGENT, workspace=ensure_workspace(s)
        )
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        reply(s, ticket, agent, "Looking at it now")  # status → pending
    with db.write() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        assert ticket.first_response_due_at is None and ticket.resolution_due_at is None
        set_status(s, ticket, agent, TicketStatus.OPEN)
    with db.write() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and ticket.resolution_due_at is not None
        set_status(s, ticket, agent, TicketStatus.SOLVED)
    kinds = [(k, d["target"]) for k, d in events_of(db, ticket_id)]
    assert kinds[2:] == [
        ("sla_breached", "first_response"),  # T0 is in 2017: the reply came years late
        ("sla_fulfilled", "first_response"),
        ("sla_breached", "resolution"),
        ("sla_paused", "resolution"),
        ("sla_resumed", "resolution"),
        ("sla_fulfilled", "resolution"),
    ]
    assert ticket_of(db, "1").sla_breached


def test_scan_sends_each_warning_and_breach_once(db: Database) -> None:
    add_policy(db, calendar=None)
    acct = make_account(db)
    ingest(db, post(acct, "1", "hello?"), pipeline=PIPELINE)
    ticket_id = ticket_of(db, "1").id

    def scan(minutes: float) -> list[tuple[str, str]]:
        with db.write() as s:
            notices = scan_sla(s.connection(), T0 + timedelta(minutes=minutes))
        return [(str(n.kind), n.target) for n in notices]

    assert scan(44) == []
    assert scan(46) == [("warning", "first_response")]
    assert scan(50) == []
    assert scan(61) == [("breach", "first_response")]
    assert scan(62) == []
    assert scan(361) == [("warning", "resolution")]
    assert scan(10_000) == [("breach", "resolution")]
    assert scan(20_000) == []
    kinds = [k for k, _ in events_of(db, ticket_id)][2:]
    assert kinds == ["sla_warning", "sla_breached", "sla_warning", "sla_breached"]
    assert ticket_of(db, "1").sla_breached
    with db.session() as s:
        assert all(c.next_check_at is None for c in s.scalars(select(SlaClock)))


def test_a_bare_thank_you_starts_no_response_clock(db: Database) -> None:
    add_policy(db)
    acct = make_account(db)
    ingest(db, post(acct, "1", "my order never arrived"), pipeline=PIPELINE)
    ingest(
        db,
        post(acct, "2", "Sorry! It ships today.", outbound=True, reply_to="1", minutes=20),
        pipeline=PIPELINE,
    )
    ingest(db, post(acct, "3", "thanks a lot!", reply_to="2", minutes=40), pipeline=PIPELINE)
    ticket = ticket_of(db, "3")
    assert ticket.status == "pending" and not ticket.needs_reply
    assert ticket.next_response_due_at is None
    assert not [
        kind for kind, data in events_of(db, ticket.id) if data.get("target") == "next_response"
    ]
