"""Replies reach Meta exactly once when the delivery worker dies between Meta's success
and our commit. Graph has no idempotency key, so the resumed worker reads the send back
(the comment's replies, the customer's conversation), or the echo of the send that
Meta delivers to our webhook has already marked the message sent."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions import tickets as ticket_actions
from socialdesk.actions.admin import create_user
from socialdesk.channels.base import EchoedSend, ParsedEvent
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.config import Settings
from socialdesk.delivery.worker import DeliveryWorker
from socialdesk.domain.enums import Platform, Role, Visibility
from socialdesk.pipeline.echoes import CONFIRMED_NOTE, confirm_echoes
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, Message, OutboxEntry, Ticket
from tests.delivery.helpers import eventually
from tests.delivery.meta_desk import MetaDesk, meta_desk
from tests.pipeline.helpers import ingest, make_account, post

__all__ = ["meta_desk"]  # a pytest fixture

COMMENTS = "POST /{id}/comments"
REPLIES = "POST /{id}/replies"
MESSAGES = "POST /{id}/messages"


def _crash_then_resume(meta_desk: MetaDesk, ticket_id: int, body: str, endpoint: str) -> None:
    """The app's worker sends ``body`` and dies before recording it; a new worker takes
    the abandoned row over. Meta ends with the one post, the message with its id."""
    before = len(meta_desk.sent(endpoint))
    meta_desk.crash.armed = True
    # A deliberate follow-up (the same words again): past the second-reply guard.
    created = meta_desk.api.post(
        f"/tickets/{ticket_id}/replies", json={"body": body, "confirm": True}
    )
    assert created.status_code == 201, created.text
    sent = meta_desk.sent  # the emulator's record of accepted sends

    def crashed() -> bool:
        return meta_desk.crash.crashes == 1 and len(sent(endpoint)) == before + 1

    eventually(crashed)
    assert meta_desk.last_answer(ticket_id)["delivery_state"] == "sending"

    assert meta_desk.restarted_worker_pass() == 1

    posts = sent(endpoint)
    assert len(posts) == before + 1  # found on Meta, not sent again
    answer = meta_desk.last_answer(ticket_id)
    assert answer["body"] == body
    assert answer["delivery_state"] == "sent"
    assert answer["platform_message_id"] == posts[-1]["id"]


def test_facebook_comment_reply_is_posted_once(meta_desk: MetaDesk) -> None:
    meta_desk.configure(echo="off")  # only the read-back can tell the reply went out
    comment = meta_desk.customer(
        "page_comment", customer={"name": "Lucía"}, message="My order arrived broken"
    )
    ticket = meta_desk.only_ticket("facebook")
    earlier = meta_desk.reply(ticket["id"], "Sorry! We are on it.")
    assert earlier["delivery_state"] == "sent"
    # The customer answers in the thread a minute later; our answer to that reply nests
    # under the same top-level comment, next to the earlier one with the same words.
    meta_desk.advance_clock(60)
    meta_desk.customer(
        "page_comment",
        customer={"name": "Lucía"},
        message="Any news?",
        parent_id=comment["comment_id"],
    )
    eventually(
        lambda: "Any news?" in [m["body"] for m in meta_desk.detail(ticket["id"])["messages"]]
    )
    meta_desk.advance_clock(60)

    _crash_then_resume(meta_desk, ticket["id"], "Sorry! We are on it.", COMMENTS)

    posts = meta_desk.sent(COMMENTS)
    assert [p["body"]["message"] for p in posts] == ["Sorry! We are on it."] * 2
    assert (
        meta_desk.last_answer(ticket["id"])["platform_message_id"] != earlier["platform_message_id"]
    )


def test_instagram_comment_reply_is_posted_once(meta_desk: MetaDesk) -> None:
    meta_desk.configure(echo="off")
    comment = meta_desk.customer(
        "ig_comment", customer={"username": "carol"}, text="The strap broke after a week"
    )
    ticket = meta_desk.only_ticket("instagram")

    _crash_then_resume(meta_desk, ticket["id"], "Sorry Carol! Please send us a DM.", REPLIES)

    [post] = meta_desk.sent(REPLIES)
    assert post["path"].endswith(f"/{comment['comment_id']}/replies")


def test_messenger_dm_is_sent_once(meta_desk: MetaDesk) -> None:
    meta_desk.configure(echo="off")
    meta_desk.customer("messenger_dm", customer={"name": "Ana"}, text="Where is my parcel?")
    ticket = meta_desk.only_ticket("messenger")
    earlier = meta_desk.reply(ticket["id"], "Checking now.")
    assert earlier["delivery_state"] == "sent"
    meta_desk.advance_clock(60)
    dm = meta_desk.customer("messenger_dm", customer={"name": "Ana"}, text="Any news?")
    eventually(
        lambda: "Any news?" in [m["body"] for m in meta_desk.detail(ticket["id"])["messages"]]
    )
    meta_desk.advance_clock(60)

    # The same words as the earlier answer: only a message after "Any news?" counts.
    _crash_then_resume(meta_desk, ticket["id"], "Checking now.", MESSAGES)

    posts = meta_desk.sent(MESSAGES)
    assert [p["body"]["recipient"] for p in posts] == [{"id": dm["sender_id"]}] * 2
    answer = meta_desk.last_answer(ticket["id"])
    assert answer["conversation_id"] == f"{meta_desk.page_id}:{dm['sender_id']}"


def test_instagram_dm_is_sent_once(meta_desk: MetaDesk) -> None:
    meta_desk.configure(echo="off")
    dm = meta_desk.customer("ig_dm", customer={"username": "dave"}, text="Is the blue one back?")
    ticket = meta_desk.only_ticket("instagram")

    _crash_then_resume(meta_desk, ticket["id"], "Yes, since this morning!", MESSAGES)

    [post] = meta_desk.sent(MESSAGES)
    assert post["path"].endswith(f"/{meta_desk.ig_id}/messages")
    assert post["body"]["recipient"] == {"id": dm["sender_id"]}


@pytest.mark.parametrize("kind", ["page_comment", "messenger_dm"])
def test_echo_marks_the_send_done_before_the_worker_resumes(meta_desk: MetaDesk, kind: str) -> None:
    """Meta delivers the echo before answering the send; the worker then dies. The echo
    alone marks the message sent, so the resumed worker has nothing to claim."""
    meta_desk.configure(echo="before")
    if kind == "page_comment":
        meta_desk.customer(kind, customer={"name": "Bo"}, message="Is the shop open today?")
        ticket, endpoint = meta_desk.only_ticket("facebook"), COMMENTS
    else:
        meta_desk.customer(kind, customer={"name": "Bo"}, text="Is the shop open today?")
        ticket, endpoint = meta_desk.only_ticket("messenger"), MESSAGES
    meta_desk.crash.armed = True

    answer = meta_desk.reply(ticket["id"], "Yes, until 6 pm.", "sent")

    eventually(lambda: meta_desk.crash.crashes == 1)  # the worker never recorded the send
    [post] = meta_desk.sent(endpoint)
    assert answer["platform_message_id"] == post["id"]
    assert meta_desk.restarted_worker_pass() == 0
    assert len(meta_desk.sent(endpoint)) == 1
    with meta_desk.db.session() as s:
        entry = s.scalar(select(OutboxEntry))
        assert entry is not None
        assert (entry.state, entry.last_error) == ("sent", CONFIRMED_NOTE)
    detail = meta_desk.detail(ticket["id"])
    assert [m["direction"] for m in detail["messages"]] == ["inbound", "outbound"]


def test_an_echo_confirms_only_its_own_send(db: Database) -> None:
    """Two customers get the same words at the same time; an echo settles the one in its
    conversation, and neither other words, a comment echo nor a redelivery settle more."""
    account = make_account(db, Platform.MESSENGER, "Acme")
    with db.session() as s:
        page = s.get(ChannelAccount, account)
        assert page is not None
        owner = page.external_id
    ingest(
        db,
        *(
            post(
                account,
                f"m-{who}",
                "Where is my order?",
                author=f"psid-{who}",
                conversation=f"{owner}:psid-{who}",
                platform=Platform.MESSENGER,
            )
            for who in ("a", "b")
        ),
    )
    with db.write() as s:
        agent = create_user(s, "agent@example.com", "correct horse battery", Role.AGENT)
        answers = [
            ticket_actions.reply(s, ticket, agent, "On it!", visibility=Visibility.PRIVATE).id
            for ticket in s.scalars(select(Ticket).order_by(Ticket.id))
        ]
    assert len(DeliveryWorker(db, ConnectorRegistry(Settings())).claim()) == 2

    def echo(text: str, customer: str | None, **target: str) -> int:
        sent = EchoedSend(
            "mid-1",
            (account,),
            text,
            recipient_id=customer,
            recipient_platform=Platform.MESSENGER if customer else None,
            **target,
        )
        return confirm_echoes(db, ParsedEvent(messages=[], echoes=[sent]))

    assert echo("Something else", "psid-b", conversation_id=f"{owner}:psid-b") == 0
    assert echo("On it!", None, parent_id="m-b") == 0  # a comment: not a DM's echo
    assert echo("On it!", "psid-b", conversation_id=f"{owner}:psid-b") == 1
    assert echo("On it!", "psid-b", conversation_id=f"{owner}:psid-b") == 0  # redelivered
    with db.session() as s:
        states = {
            m.id: (m.platform_message_id, m.delivery_state)
            for m in s.scalars(select(Message).where(Message.id.in_(answers)))
        }
        entries = {e.message_id: e.state for e in s.scalars(select(OutboxEntry))}
    to_a, to_b = answers
    assert states == {to_a: (None, "sending"), to_b: ("mid-1", "sent")}
    assert entries == {to_a: "sending", to_b: "sent"}


def test_meta_reads_answer_with_graph_shapes_and_errors(meta_desk: MetaDesk) -> None:
    """The reads the lookups rely on, as Graph answers them: lists in ``data`` with
    cursor ``paging``, newest first where asked, and Graph's errors."""
    meta_desk.configure(echo="off")
    comment = meta_desk.customer("page_comment", customer={"name": "Eve"}, message="Hi")
    ticket = meta_desk.only_ticket("facebook")
    meta_desk.reply(ticket["id"], "First answer")
    meta_desk.advance_clock(5)
    meta_desk.reply(ticket["id"], "Second answer", confirm=True)
    dm = meta_desk.customer("messenger_dm", customer={"name": "Eve"}, text="Hello")
    token = meta_desk.meta.post("/_emulator/tokens", json={"account_id": meta_desk.page_id})
    graph = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def get(path: str, **params: str) -> httpx.Response:
        return meta_desk.meta.get(f"/v21.0{path}", params=params, headers=graph)

    replies = get(
        f"/{comment['comment_id']}/comments",
        fields="id,message,from,created_time",
        order="reverse_chronological",
        limit="1",
    ).json()
    assert [r["message"] for r in replies["data"]] == ["Second answer"]
    assert replies["data"][0]["from"]["id"] == meta_desk.page_id
    assert replies["data"][0]["created_time"].endswith("+0000")
    assert set(replies["paging"]) == {"cursors", "next"}
    older = get(
        f"/{comment['comment_id']}/comments",
        fields="message",
        order="reverse_chronological",
        after=replies["paging"]["cursors"]["after"],
    ).json()
    assert [r["message"] for r in older["data"]] == ["First answer"]

    conversations = get(
        f"/{meta_desk.page_id}/conversations",
        platform="messenger",
        user_id=dm["sender_id"],
        fields="messages.limit(5){id,message,from,created_time}",
    ).json()
    [conversation] = conversations["data"]
    [message] = conversation["messages"]["data"]
    assert (message["id"], message["message"]) == (dm["mid"], "Hello")
    assert message["from"]["id"] == dm["sender_id"]
    assert get(f"/{dm['mid']}", fields="id,message").json() == {"id": dm["mid"], "message": "Hello"}

    bad = meta_desk.meta.get(
        f"/v21.0/{comment['comment_id']}/comments", headers={"Authorization": "Bearer nope"}
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 190
    ig_token = meta_desk.meta.post("/_emulator/tokens", json={"account_id": meta_desk.ig_id})
    other = meta_desk.meta.get(
        f"/v21.0/{comment['comment_id']}/comments",
        headers={"Authorization": f"Bearer {ig_token.json()['access_token']}"},
    )
    assert other.status_code == 400
    assert (other.json()["error"]["code"], other.json()["error"]["error_subcode"]) == (100, 33)
