from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from socialdesk.domain.enums import Platform
from socialdesk.pipeline.ingest import Pipeline, SkipReason
from socialdesk.store.db import Database
from socialdesk.store.models import Contact, ContactIdentity, Message, Ticket, TicketEvent
from tests.pipeline.helpers import ingest, make_account, post


def _ticket_of(db: Database, pid: str) -> Ticket:
    with db.session() as s:
        ticket_id = s.scalar(select(Message.ticket_id).where(Message.platform_message_id == pid))
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def _kinds(db: Database, ticket_id: int) -> list[str]:
    with db.session() as s:
        return list(
            s.scalars(
                select(TicketEvent.kind)
                .where(TicketEvent.ticket_id == ticket_id)
                .order_by(TicketEvent.id)
            )
        )


def test_new_post_opens_ticket_with_contact_and_events(db: Database) -> None:
    acct = make_account(db)
    result = ingest(db, post(acct, "1", "@AcmeSupport my order never arrived"))
    assert result.stored == 1 and len(result.tickets_created) == 1
    ticket = _ticket_of(db, "1")
    assert ticket.status == "new" and ticket.needs_reply
    assert ticket.subject == "@AcmeSupport my order never arrived"
    assert _kinds(db, ticket.id) == ["created", "message_received"]
    with db.session() as s:
        identity = s.scalar(select(ContactIdentity))
        assert (
            identity is not None
            and identity.external_user_id == "115712"
            and identity.follower_count == 120
        )


def test_same_post_twice_is_stored_once(db: Database) -> None:
    acct = make_account(db)
    first = ingest(db, post(acct, "1", "hello"), post(acct, "1", "hello"))
    second = ingest(db, post(acct, "1", "hello"))
    assert first.stored == 1 and first.skipped == {SkipReason.DUPLICATE: 1}
    assert second.stored == 0 and second.message_ids == [None]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 1
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1


def test_reply_chain_threads_and_brand_reply_marks_first_response(db: Database) -> None:
    acct = make_account(db)
    ingest(db, post(acct, "1", "my phone won't charge"))
    ingest(db, post(acct, "2", "Sorry! Which model?", outbound=True, reply_to="1", minutes=12))
    ingest(db, post(acct, "3", "iPhone 8", reply_to="2", minutes=20))
    ticket = _ticket_of(db, "3")
    assert _ticket_of(db, "1").id == ticket.id == _ticket_of(db, "2").id
    assert ticket.message_count == 3
    assert ticket.first_response_at is not None
    assert (ticket.first_response_at - ticket.first_message_at) == timedelta(minutes=12)
    assert (
        ticket.status == "open" and ticket.needs_reply
    )  # pending → open when the customer answered
    assert _kinds(db, ticket.id) == [
        "created",
        "message_received",
        "replied",
        "status_changed",
        "message_received",
        "status_changed",
    ]


def test_out_of_order_delivery_still_threads(db: Database) -> None:
    acct = make_account(db)
    # The brand reply and the customer's follow-up arrive before the root post.
    ingest(db, post(acct, "2", "Sorry! Which model?", outbound=True, reply_to="1", minutes=12))
    ingest(db, post(acct, "1", "my phone won't charge", author="42"))
    ingest(db, post(acct, "3", "iPhone 8", reply_to="2", minutes=20, author="42"))
    ids = {_ticket_of(db, pid).id for pid in ("1", "2", "3")}
    assert len(ids) == 1
    ticket = _ticket_of(db, "1")
    assert ticket.contact_id is not None  # learnt from the late root post
    assert ticket.needs_reply  # the newest message is the customer's
    assert ticket.first_message_at < ticket.first_response_at  # type: ignore[operator]


def test_batch_that_contains_a_whole_thread_in_any_order(db: Database) -> None:
    acct = make_account(db)
    result = ingest(
        db,
        post(acct, "3", "iPhone 8", reply_to="2", minutes=20),
        post(acct, "2", "Which model?", outbound=True, reply_to="1", minutes=12),
        post(acct, "1", "won't charge"),
    )
    assert len(result.tickets_created) == 1
    assert all(mid is not None for mid in result.message_ids)


def test_dm_conversation_and_open_ticket_window(db: Database) -> None:
    acct = make_account(db)
    ingest(db, post(acct, "1", "public complaint"))
    # A DM from the same person joins their open ticket; so does a later DM in that conversation.
    ingest(db, post(acct, "dm-1", "here is my order number", conversation="c-1", minutes=5))
    ingest(db, post(acct, "dm-2", "and my postcode", conversation="c-1", minutes=6))
    assert _ticket_of(db, "dm-1").id == _ticket_of(db, "1").id == _ticket_of(db, "dm-2").id
    # Past the window, a new root post opens a new ticket.
    pipeline = Pipeline(thread_window=timedelta(hours=1))
    ingest(db, post(acct, "9", "another problem", minutes=600), pipeline=pipeline)
    assert _ticket_of(db, "9").id != _ticket_of(db, "1").id


def test_email_references_thread(db: Database) -> None:
    acct = make_account(db, Platform.EMAIL, "help@acme.test")
    ingest(
        db, post(acct, "<a@x>", "Invoice wrong", platform=Platform.EMAIL, author="c@example.com")
    )
    ingest(
        db,
        post(
            acct,
            "<b@acme>",
            "Looking",
            outbound=True,
            reply_to="<a@x>",
            minutes=30,
            platform=Platform.EMAIL,
        ),
    )
    # Replying to an older message, citing the whole chain in References.
    ingest(
        db,
        post(
            acct,
            "<c@x>",
            "Any news?",
            reply_to="<unknown@x>",
            references=("<a@x>", "<b@acme>"),
            minutes=3000,
            platform=Platform.EMAIL,
            author="someone-else@example.com",
        ),
    )
    assert _ticket_of(db, "<c@x>").id == _ticket_of(db, "<a@x>").id


@pytest.mark.parametrize(
    ("follow_up", "status_after", "needs_reply", "last_kind"),
    [
        ("thanks, all sorted!", "solved", False, "customer_acknowledged"),
        ("👍", "solved", False, "customer_acknowledged"),
        ("thanks but it broke again", "open", True, "message_received"),
        ("How do I get a refund?", "open", True, "message_received"),
    ],
)
def test_message_after_solved(
    db: Database, follow_up: str, status_after: str, needs_reply: bool, last_kind: str
) -> None:
    acct = make_account(db)
    ingest(db, post(acct, "1", "card declined"))
    ingest(
        db, post(acct, "2", "Fixed on our side, try again", outbound=True, reply_to="1", minutes=5)
    )
    with db.write() as s:
        ticket = s.get(Ticket, _ticket_of(db, "1").id)
        assert ticket is not None
        ticket.status = "solved"
    ingest(db, post(acct, "3", follow_up, reply_to="2", minutes=9))
    ticket = _ticket_of(db, "3")
    assert ticket.id == _ticket_of(db, "1").id
    assert ticket.status == status_after
    assert ticket.needs_reply is needs_reply
    kinds = _kinds(db, ticket.id)
    assert kinds[-1] == last_kind or (status_after == "open" and "reopened" in kinds)


def test_reply_to_closed_ticket_starts_linked_follow_up(db: Database) -> None:
    acct = make_account(db)
    ingest(db, post(acct, "1", "card declined"))
    first = _ticket_of(db, "1")
    with db.write() as s:
        ticket = s.get(Ticket, first.id)
        assert ticket is not None
        ticket.status = "closed"
    ingest(db, post(acct, "2", "it happened again", reply_to="1", minutes=60 * 24 * 10))
    follow_up = _ticket_of(db, "2")
    assert follow_up.id != first.id and follow_up.follow_up_of_id == first.id


def test_same_person_on_two_networks_merges_into_one_contact(db: Database) -> None:
    from socialdesk.actions.contacts import merge_contacts

    x = make_account(db)
    mastodon = make_account(db, Platform.MASTODON, "acme@mastodon.social")
    ingest(db, post(x, "1", "help", author="111"))
    ingest(
        db, post(mastodon, "m1", "help again", author="222", platform=Platform.MASTODON, minutes=1)
    )
    with db.write() as s:
        contacts = s.scalars(select(Contact).order_by(Contact.id)).all()
        assert len(contacts) == 2
        merge_contacts(s, None, contacts[0], contacts[1])
    with db.session() as s:
        survivor_identities = s.scalars(
            select(ContactIdentity.platform).order_by(ContactIdentity.platform)
        ).all()
        assert survivor_identities == ["mastodon", "x"]
        assert len(set(s.scalars(select(ContactIdentity.contact_id)))) == 1
    # The next post on either network finds the merged contact's open ticket.
    ingest(
        db,
        post(mastodon, "m2", "still waiting", author="222", platform=Platform.MASTODON, minutes=2),
    )
    assert _ticket_of(db, "m2").contact_id == _ticket_of(db, "1").contact_id


def test_unknown_account_is_skipped_not_fatal(db: Database) -> None:
    result = ingest(db, post(999_999, "1", "hi"))
    assert result.skipped == {SkipReason.UNKNOWN_ACCOUNT: 1}


@pytest.mark.parametrize(
    ("follow_up", "status_after", "needs_reply"),
    [
        ("Thanks. Item recovered and waiting collection :D", "pending", False),
        ("cheers 👍", "pending", False),
        ("thanks, but where is my refund?", "open", True),
        # Thanks that carry what we asked for: the customer is waiting on us again.
        ("Sure, it's carla@example.org. Thanks!", "open", True),
        ("Order 4411, thanks", "open", True),
        ("Thanks. The tracking number is 1Z999", "open", True),
    ],
)
def test_thanks_while_waiting_on_the_customer(
    db: Database, follow_up: str, status_after: str, needs_reply: bool
) -> None:
    acct = make_account(db)
    ingest(db, post(acct, "1", "lost my phone in a car"))
    ingest(
        db,
        post(
            acct, "2", "Happy to help! DM us your number", outbound=True, reply_to="1", minutes=11
        ),
    )
    ingest(db, post(acct, "3", follow_up, reply_to="2", minutes=600))
    ticket = _ticket_of(db, "3")
    assert (ticket.status, ticket.needs_reply) == (status_after, needs_reply)


def test_a_thanks_that_reopens_says_why(db: Database) -> None:
    acct = make_account(db)
    ingest(db, post(acct, "1", "my code does not work"))
    ingest(db, post(acct, "2", "Which e-mail?", outbound=True, reply_to="1", minutes=5))
    ingest(db, post(acct, "3", "Sure, it's carla@example.org. Thanks!", reply_to="2", minutes=9))
    ticket = _ticket_of(db, "3")
    with db.session() as s:
        changes = s.scalars(
            select(TicketEvent.data)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "status_changed")
            .order_by(TicketEvent.id)
        ).all()
    assert changes[-1] == {"from": "pending", "to": "open", "reason": "an e-mail address"}
