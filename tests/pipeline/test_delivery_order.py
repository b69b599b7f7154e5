"""Any order of a thread's deliveries ends in the same tickets and ticket state."""

from __future__ import annotations

from itertools import permutations

from sqlalchemy import select

from socialdesk.store.db import Database
from socialdesk.store.models import Message, Ticket, TicketEvent, TicketTag
from tests.pipeline.helpers import ingest, make_account, post


def _thread(account: int, tag: str, author: str) -> list:
    # customer → brand → customer → brand → customer thanks, five minutes apart
    return [
        post(account, f"{tag}a", "@AcmeSupport my parcel never came", author=author, minutes=0),
        post(
            account, f"{tag}b", "Sorry! Which order?", outbound=True, reply_to=f"{tag}a", minutes=5
        ),
        post(account, f"{tag}c", "Order 4411", author=author, reply_to=f"{tag}b", minutes=10),
        post(
            account,
            f"{tag}d",
            "Found it, it ships today",
            outbound=True,
            reply_to=f"{tag}c",
            minutes=15,
        ),
        post(account, f"{tag}e", "great thanks!", author=author, reply_to=f"{tag}d", minutes=20),
    ]


def _state(db: Database, account: int) -> tuple:
    with db.session() as s:
        rows = s.execute(
            select(Message.platform_message_id, Message.ticket_id).where(
                Message.channel_account_id == account
            )
        ).all()
        ticket_ids = sorted({r.ticket_id for r in rows})
        groups = sorted(
            tuple(sorted(r.platform_message_id[-1] for r in rows if r.ticket_id == t))
            for t in ticket_ids
        )
        tickets = [s.get(Ticket, t) for t in ticket_ids]
        return (
            groups,
            sorted(
                (
                    t.status,
                    t.needs_reply,
                    t.first_response_at,
                    t.last_message_at,
                    t.last_inbound_at if hasattr(t, "last_inbound_at") else None,
                )
                for t in tickets
                if t is not None
            ),
        )


def test_every_order_of_a_thread_ends_in_the_same_ticket(db: Database) -> None:
    results = {}
    for n, order in enumerate(permutations(range(5))):
        account = make_account(db, handle=f"Acme{n}")
        thread = _thread(account, f"p{n}-", author=f"cust{n}")
        for position in order:
            ingest(db, thread[position])
        results[order] = _state(db, account)
    expected = results[(0, 1, 2, 3, 4)]
    assert len(expected[0]) == 1 and expected[1][0][:2] == ("pending", False)
    differing = {order: state for order, state in results.items() if state != expected}
    assert not differing, f"{len(differing)} of 120 orders differ, e.g. {next(iter(differing))}"


def test_a_ticket_opened_too_early_joins_the_thread_with_its_tags_and_history(
    db: Database,
) -> None:
    account = make_account(db)
    thread = _thread(account, "m-", author="carla")
    ingest(db, thread[0], thread[1])  # question and our answer
    late = ingest(db, thread[3])  # our second answer overtakes the customer's reply
    early_ticket = late.tickets_created[0]
    with db.write() as s:
        s.add(TicketTag(ticket_id=early_ticket, tag="parcel"))
    joined = ingest(db, thread[2])
    with db.session() as s:
        survivor = s.scalar(select(Message.ticket_id).where(Message.platform_message_id == "m-a"))
        assert joined.merged == {early_ticket: survivor}
        assert s.get(Ticket, early_ticket) is None
        assert set(
            s.scalars(select(Message.platform_message_id).where(Message.ticket_id == survivor))
        ) == {"m-a", "m-b", "m-c", "m-d"}
        assert list(s.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == survivor))) == [
            "parcel"
        ]
        kinds = list(
            s.scalars(
                select(TicketEvent.kind)
                .where(TicketEvent.ticket_id == survivor)
                .order_by(TicketEvent.id)
            )
        )
        # the early ticket's own history came along, and the merge itself is recorded
        assert kinds.count("created") == 2 and "merged" in kinds
        ticket = s.get(Ticket, survivor)
        assert ticket is not None and ticket.status == "pending" and not ticket.needs_reply


def test_an_agents_decision_stands_when_an_old_post_arrives_late(db: Database) -> None:
    account = make_account(db)
    thread = _thread(account, "s-", author="dana")
    ingest(db, thread[0], thread[2])
    with db.write() as s:
        ticket = s.get(
            Ticket, s.scalar(select(Message.ticket_id).where(Message.platform_message_id == "s-a"))
        )
        assert ticket is not None
        ticket.status = "solved"
        ticket_id = ticket.id
    ingest(db, thread[1])  # our answer, older than the customer's reply, arrives last
    with db.session() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "solved"
        assert ticket.first_response_at == thread[1].created_at and ticket.message_count == 3
