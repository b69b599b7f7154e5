"""Replies reach Meta exactly once when the delivery worker dies between Meta's success
and our commit. Graph has no idempotency key, so the resumed worker reads the send back
(the comment's replies, the customer's conversation), or the echo of the send that
Meta delivers to our webhook has already marked the message sent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from socialdesk.pipeline.echoes import CONFIRMED_NOTE
from socialdesk.store.models import OutboxEntry
from tests.delivery.helpers import eventually
from tests.delivery.meta_desk import MetaDesk, meta_desk

__all__ = ["meta_desk"]  # a pytest fixture

COMMENTS = "POST /{id}/comments"
REPLIES = "POST /{id}/replies"
MESSAGES = "POST /{id}/messages"


def _crash_then_resume(meta_desk: MetaDesk, ticket_id: int, body: str, endpoint: str) -> None:
    """The app's worker sends ``body`` and dies before recording it; a new worker takes
    the abandoned row over. Meta ends with the one post, the message with its id."""
    before = len(meta_desk.sent(endpoint))
    meta_desk.crash.armed = True
    created = meta_desk.api.post(f"/tickets/{ticket_id}/replies", json={"body": body})
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
