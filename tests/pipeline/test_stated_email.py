"""An e-mail address a customer writes in a DM becomes their contact's address, so the
e-mail they send later lands with the same contact and in the same ticket."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from socialdesk.config import Settings
from socialdesk.domain.enums import Platform
from socialdesk.domain.messages import Author, InboundMessage
from socialdesk.pipeline.stated_email import stated_email
from socialdesk.store.db import Database
from socialdesk.store.models import Contact, Message, TicketEvent
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import ingest, make_account, post


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sure, it's Ann.Lee@Example.org.", "ann.lee@example.org"),
        ("mail a.b+orders@sub.example.co.uk!", "a.b+orders@sub.example.co.uk"),
        ("ann@example.org, or ann@example.org again", "ann@example.org"),
        ("either ann@example.org or work: ann@corp.example", None),  # which one? ask
        ("ping @AcmeSupport about it", None),
        ("root@localhost", None),
        ("no address here", None),
        ("my order is 12@34", None),
    ],
)
def test_stated_email(text: str, expected: str | None) -> None:
    assert stated_email(text) == expected


def _email_from(account: int, address: str, pid: str, body: str, minutes: float) -> InboundMessage:
    message = post(account, pid, body, platform=Platform.EMAIL, minutes=minutes)
    return replace(message, author=Author(external_user_id=address, email=address))


def test_a_dm_address_carries_the_later_email_into_the_same_ticket(db: Database) -> None:
    x = make_account(db, Platform.X, "AcmeSupport")
    mail = make_account(db, Platform.EMAIL, "help@acme.test")
    pipeline = build_pipeline(Settings())
    ingest(db, post(x, "t1", "@AcmeSupport my refund never came"), pipeline=pipeline)
    ingest(
        db,
        post(x, "d1", "sure, it's Ann@Example.org", conversation="dm-1", minutes=5),
        pipeline=pipeline,
    )
    with db.session() as s:
        (contact,) = s.scalars(select(Contact)).all()
        assert contact.email == "ann@example.org"
        noted = s.scalars(
            select(TicketEvent).where(TicketEvent.kind == "contact_email_noted")
        ).all()
        assert [e.data["email"] for e in noted] == ["ann@example.org"]

    ingest(
        db,
        _email_from(mail, "ann@example.org", "<m1@example.org>", "Here is the receipt", 60),
        pipeline=pipeline,
    )
    with db.session() as s:
        assert len(s.scalars(select(Contact)).all()) == 1
        tickets = {m.ticket_id for m in s.scalars(select(Message))}
        assert len(tickets) == 1


def test_public_posts_and_known_addresses_are_left_alone(db: Database) -> None:
    x = make_account(db, Platform.X, "AcmeSupport")
    pipeline = build_pipeline(Settings())
    # In public: not noted (anyone can paste anyone's address under a brand's post).
    ingest(
        db,
        post(x, "p1", "@AcmeSupport write me at bob@example.org", author="bob"),
        pipeline=pipeline,
    )
    # Someone else's address already on file: a merge for an agent to decide.
    ingest(db, post(x, "c1", "hi", author="carol", conversation="dm-c"), pipeline=pipeline)
    with db.write() as s:
        carol = s.scalars(select(Contact).order_by(Contact.id.desc())).first()
        assert carol is not None
        carol.email = "carol@example.org"
    ingest(
        db,
        post(x, "d2", "it's carol@example.org", author="dave", conversation="dm-d"),
        pipeline=pipeline,
    )
    with db.session() as s:
        emails = sorted(c.email or "" for c in s.scalars(select(Contact)))
        assert emails == ["", "", "carol@example.org"]
        assert (
            s.scalars(select(TicketEvent).where(TicketEvent.kind == "contact_email_noted")).all()
            == []
        )
