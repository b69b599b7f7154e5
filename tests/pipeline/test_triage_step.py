"""Every inbound customer message is triaged as it is stored; the ticket carries the latest."""

from __future__ import annotations

from sqlalchemy import select

from socialdesk.actions.admin import create_user
from socialdesk.actions.triage_labels import set_triage_labels
from socialdesk.config import Settings
from socialdesk.domain.enums import Role
from socialdesk.store.db import Database
from socialdesk.store.models import Message, Ticket, TicketEvent
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import ingest, make_account, post


def test_a_customer_message_gets_its_triage_and_the_ticket_the_latest(db: Database) -> None:
    x = make_account(db)
    pipeline = build_pipeline(Settings())
    ingest(db, post(x, "t1", "@AcmeSupport I lost my photos!!"), pipeline=pipeline)
    with db.session() as s:
        message = s.scalars(select(Message)).one()
        ticket = s.scalars(select(Ticket)).one()
        assert message.triage is not None
        assert message.triage["sentiment"] == "negative"
        assert message.triage["intent"] == "complaint"
        assert "negativity" in [signal["name"] for signal in message.triage["signals"]]
        assert ticket.sentiment_label == "negative" and ticket.intent == "complaint"
        assert ticket.sentiment is not None and ticket.sentiment < 0
        assert ticket.urgency == message.triage["urgency"] > 0
        first_urgency = ticket.urgency

    # Three hours later, still unanswered: repeat contact and waiting time raise urgency.
    ingest(
        db,
        post(x, "t2", "@AcmeSupport hello?? I lost my photos!!", reply_to="t1", minutes=180),
        pipeline=pipeline,
    )
    with db.session() as s:
        later = s.scalars(select(Message).where(Message.platform_message_id == "t2")).one()
        assert later.triage is not None
        names = [signal["name"] for signal in later.triage["signals"]]
        assert "repeat contact" in names and "waiting time" in names
        ticket = s.scalars(select(Ticket)).one()
        assert ticket.urgency == later.triage["urgency"] > first_urgency


def test_our_own_messages_are_not_triaged(db: Database) -> None:
    x = make_account(db)
    pipeline = build_pipeline(Settings())
    ingest(db, post(x, "t1", "@AcmeSupport where is my parcel?"), pipeline=pipeline)
    ingest(
        db,
        post(x, "r1", "Sorry! DM us your order number", reply_to="t1", outbound=True, minutes=2),
        pipeline=pipeline,
    )
    with db.session() as s:
        ours = s.scalars(select(Message).where(Message.platform_message_id == "r1")).one()
        assert ours.triage is None
        ticket = s.scalars(select(Ticket)).one()
        assert ticket.intent == "question" and ticket.topic == "Delivery"


def test_an_agents_label_is_never_overridden(db: Database) -> None:
    x = make_account(db)
    pipeline = build_pipeline(Settings())
    ingest(db, post(x, "t1", "@AcmeSupport my flight was cancelled!!"), pipeline=pipeline)
    with db.write() as s:
        agent = create_user(
            s, "ann@acme.test", "a long agent passphrase 42", Role.AGENT, seed_data=True
        )
        ticket = s.scalars(select(Ticket)).one()
        set_triage_labels(s, ticket, agent, intent="feedback", topic="Schedule change")
    ingest(
        db,
        post(x, "t2", "@AcmeSupport still no answer, this is awful", reply_to="t1", minutes=60),
        pipeline=pipeline,
    )
    with db.session() as s:
        ticket = s.scalars(select(Ticket)).one()
        assert ticket.intent == "feedback" and ticket.topic == "Schedule change"
        # Labels the agent did not set still follow the customer.
        assert ticket.sentiment_label == "negative" and ticket.urgency
        labelled = s.scalars(select(TicketEvent).where(TicketEvent.kind == "triage_labelled"))
        assert [e.data["to"] for e in labelled] == [
            {"intent": "feedback", "topic": "Schedule change"}
        ]


def test_another_customers_reply_is_labelled_but_not_the_tickets(db: Database) -> None:
    x = make_account(db)
    pipeline = build_pipeline(Settings())
    ingest(
        db,
        post(x, "q", "@AcmeSupport my bag never arrived, this is awful!!", author="sam"),
        post(x, "f", "@sam love this airline, great crew", author="fan", reply_to="q", minutes=2),
        pipeline=pipeline,
    )
    with db.session() as s:
        ticket = s.scalars(select(Ticket)).one()
        fan = s.scalars(select(Message).where(Message.platform_message_id == "f")).one()
        assert fan.ticket_id == ticket.id and fan.triage is not None
        assert fan.triage["sentiment"] == "positive"
        assert ticket.sentiment_label == "negative" and ticket.intent == "complaint"
