"""Moving a public Facebook or Instagram comment to private: Meta lets a Page message a
commenter who never wrote a DM only by a private reply to the comment (one per comment,
within 7 days). The customer's answer arrives as an ordinary DM from their messaging id
and continues the same ticket, where the next answer is an ordinary DM."""

from __future__ import annotations

import httpx
import pytest

from tests.delivery.helpers import eventually
from tests.delivery.meta_desk import HOUR, MetaDesk, meta_desk

__all__ = ["meta_desk"]  # a pytest fixture

MESSAGES = "POST /{id}/messages"


def _move_to_private(meta_desk: MetaDesk, ticket_id: int, body: str) -> httpx.Response:
    return meta_desk.api.post(
        f"/tickets/{ticket_id}/move-to-private", json={"mode": "dm", "body": body}
    )


@pytest.mark.parametrize(
    ("comment_kind", "dm_kind", "channel", "dm_channel"),
    [
        ("page_comment", "messenger_dm", "facebook", "messenger"),
        ("ig_comment", "ig_dm", "instagram", "instagram"),
    ],
    ids=["facebook", "instagram"],
)
def test_comment_moved_to_private_continues_in_the_same_ticket(
    meta_desk: MetaDesk, comment_kind: str, dm_kind: str, channel: str, dm_channel: str
) -> None:
    text_key = "message" if comment_kind == "page_comment" else "text"
    person = {"name": "Lucía"} if channel == "facebook" else {"username": "lucia"}
    comment = meta_desk.customer(
        comment_kind, customer=person, **{text_key: "My package arrived damaged"}
    )
    ticket = meta_desk.only_ticket(channel)

    moved = _move_to_private(meta_desk, ticket["id"], "Hi Lucía, sorry! Your order number?")

    assert moved.status_code == 201, moved.text
    assert moved.json()["visibility"] == "private"
    answer = meta_desk.settled(ticket["id"])
    assert answer["delivery_state"] == "sent", answer["delivery_error"]
    [sent] = meta_desk.sent(MESSAGES)
    assert sent["body"]["recipient"] == {"comment_id": comment["comment_id"]}
    assert sent["body"]["message"] == {"text": "Hi Lucía, sorry! Your order number?"}
    assert "messaging_type" not in sent["body"] and "tag" not in sent["body"]
    assert answer["platform_message_id"] == sent["id"]
    # Nothing went out in public.
    assert meta_desk.sent("POST /{id}/comments") == meta_desk.sent("POST /{id}/replies") == []
    # One private reply per comment: a second is refused before it reaches Meta.
    again = _move_to_private(meta_desk, ticket["id"], "Hello?")
    assert again.status_code == 422 and "one private reply per comment" in again.text

    # The customer answers by DM, from the id Meta gave them in the Page's inbox.
    dm = meta_desk.customer(dm_kind, customer=person, text="Order 5521")
    if channel == "facebook":
        assert dm["sender_id"] != comment["from_id"]  # a PSID, not the commenter's id
    owner = meta_desk.page_id if channel == "facebook" else meta_desk.ig_id
    assert answer["conversation_id"] == f"{owner}:{dm['sender_id']}"
    detail = eventually(
        lambda: (d := meta_desk.detail(ticket["id"]))["messages"][-1]["body"] == "Order 5521" and d
    )
    assert [(m["direction"], m["visibility"]) for m in detail["messages"]] == [
        ("inbound", "public"),
        ("outbound", "private"),
        ("inbound", "private"),
    ]
    assert [t["id"] for t in meta_desk.tickets()] == [ticket["id"]]
    assert detail["messages"][-1]["platform"] == dm_channel
    # The echo of the private reply told us who the commenter is in the Page's inbox.
    identities = {
        (i["platform"], i["external_user_id"]) for i in detail["contact_detail"]["identities"]
    }
    assert {(channel, comment["from_id"]), (dm_channel, dm["sender_id"])} <= identities

    # Now a conversation exists: the next answer is an ordinary DM to that id.
    follow_up = meta_desk.reply(ticket["id"], "Thanks! A new one ships today.")
    assert follow_up["delivery_state"] == "sent", follow_up["delivery_error"]
    second = meta_desk.sent(MESSAGES)[-1]
    assert second["body"]["recipient"] == {"id": dm["sender_id"]}
    assert second["body"]["messaging_type"] == "RESPONSE"
    assert follow_up["platform_message_id"] == second["id"]


def test_a_comment_older_than_seven_days_cannot_be_answered_privately(
    meta_desk: MetaDesk,
) -> None:
    meta_desk.advance_clock(-8 * 24 * HOUR)
    meta_desk.customer("page_comment", customer={"name": "Old"}, message="Still waiting")
    meta_desk.advance_clock(8 * 24 * HOUR)
    ticket = meta_desk.only_ticket("facebook")

    moved = _move_to_private(meta_desk, ticket["id"], "Hi, could you DM us?")

    assert moved.status_code == 422
    assert "within 7 days of the comment" in moved.text
    assert meta_desk.sent(MESSAGES) == []


def test_meta_enforces_one_private_reply_per_comment_within_seven_days(
    meta_desk: MetaDesk,
) -> None:
    """The emulator's Graph rules themselves, as a connector sees them on the wire."""
    token = meta_desk.meta.post("/_emulator/tokens", json={"account_id": meta_desk.page_id})
    graph = {"Authorization": f"Bearer {token.json()['access_token']}"}
    comment = meta_desk.customer("page_comment", customer={"name": "Kim"}, message="hi")

    def private_reply(comment_id: str) -> httpx.Response:
        return meta_desk.meta.post(
            f"/v21.0/{meta_desk.page_id}/messages",
            json={"recipient": {"comment_id": comment_id}, "message": {"text": "Hi Kim"}},
            headers=graph,
        )

    first = private_reply(comment["comment_id"])
    assert first.status_code == 200, first.text
    assert set(first.json()) == {"recipient_id", "message_id"}
    second = private_reply(comment["comment_id"])
    assert second.status_code == 400
    assert second.json()["error"]["code"] == 10900

    meta_desk.advance_clock(-8 * 24 * HOUR)
    old = meta_desk.customer("page_comment", customer={"name": "Kim"}, message="old one")
    meta_desk.advance_clock(8 * 24 * HOUR)
    late = private_reply(old["comment_id"])
    assert late.status_code == 400 and late.json()["error"]["code"] == 10903
    # Before the customer answers, the private reply opens no messaging window.
    dm = meta_desk.meta.post(
        f"/v21.0/{meta_desk.page_id}/messages",
        json={
            "recipient": {"id": first.json()["recipient_id"]},
            "messaging_type": "RESPONSE",
            "message": {"text": "Hello again"},
        },
        headers=graph,
    )
    assert dm.status_code == 400 and dm.json()["error"]["code"] == 100


def test_private_reply_resumed_after_a_crash_is_found_not_sent_twice(
    meta_desk: MetaDesk,
) -> None:
    """The worker dies after Meta accepted the private reply. Sending it again gets
    Meta's 10900 (one per comment): the connector then finds the first one."""
    meta_desk.configure(echo="off")
    meta_desk.customer("ig_comment", customer={"username": "noor"}, text="Wrong size sent")
    ticket = meta_desk.only_ticket("instagram")
    meta_desk.crash.armed = True

    moved = _move_to_private(meta_desk, ticket["id"], "Hi Noor, which size did you order?")

    assert moved.status_code == 201, moved.text
    eventually(lambda: meta_desk.crash.crashes == 1)
    assert meta_desk.restarted_worker_pass() == 1
    [sent] = meta_desk.sent(MESSAGES)  # the retry was refused with 10900, not recorded
    answer = meta_desk.last_answer(ticket["id"])
    assert answer["delivery_state"] == "sent", answer["delivery_error"]
    assert answer["platform_message_id"] == sent["id"]
