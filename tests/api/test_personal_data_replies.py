"""The composer follows the customer: a public reply that would publish personal data is
refused by the reply action until confirmed, through both doors (API and page), and the
page offers "Move to private"; the composer defaults to where the customer last wrote.
Real HTTP, real database."""

from __future__ import annotations

import re

from sqlalchemy import select

from socialdesk.store.models import Message
from tests.api.doors import Desk
from tests.pipeline.helpers import ingest, post

LEAK = "Sure, we have carla@example.org and 4111 1111 1111 1111 on file."


def _sent(desk: Desk) -> list[tuple[str, str]]:
    with desk.db.session() as s:
        return [
            (m.visibility, m.body)
            for m in s.scalars(
                select(Message)
                .where(Message.ticket_id == desk.ticket_id, Message.direction == "outbound")
                .order_by(Message.id)
            )
        ]


def test_personal_data_in_public_needs_confirm_through_the_api(desk: Desk) -> None:
    with desk.api("agent") as api:
        path = f"/tickets/{desk.ticket_id}/replies"
        r = api.post(path, json={"body": LEAK, "visibility": "public"})
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        assert error["code"] == "personal_data"
        assert "an e-mail address and a card number" in error["reason"]
        assert [f["kind"] for f in error["details"]["found"]] == ["email", "card_number"]
        assert _sent(desk) == []
        # Privately it goes at once; in public only when confirmed.
        private = api.post(path, json={"body": LEAK, "visibility": "private"})
        assert private.status_code == 201, private.text
        public = api.post(path, json={"body": LEAK, "visibility": "public", "confirm": True})
        assert public.status_code == 201, public.text
        # A brand's own toll-free line is not personal data.
        hotline = api.post(
            path,
            json={"body": "Call us on 1-800-869-3557", "visibility": "public", "confirm": True},
        )
        assert hotline.status_code == 201
    assert [v for v, _ in _sent(desk)] == ["private", "public", "public"]


def test_personal_data_in_public_asks_on_the_page_and_moves_to_private(desk: Desk) -> None:
    page = desk.page("agent")
    path = f"/tickets/{desk.ticket_id}/reply"
    # A plain form post: a confirm page (409) with both choices.
    r = page.post(path, {"body": "Your order 4411 ships today", "kind": "public"})
    assert r.status_code == 409
    assert "an order or tracking number" in r.text and "Move to private" in r.text
    assert "Send in public anyway" in r.text
    # HTMX: the confirm step inside the composer.
    r = page.client.post(
        path,
        data={"body": LEAK, "kind": "public", "csrf_token": page.csrf},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and r.headers["HX-Retarget"] == "#reply-confirm"
    assert re.search(r'name="private" value="1"[^>]*>Move to private', r.text)
    assert "carla@example.org" in r.text
    assert _sent(desk) == []
    # "Move to private" sends the same text as a direct message.
    r = page.post(path, {"body": LEAK, "kind": "public", "private": "1"})
    assert r.status_code == 303
    assert _sent(desk) == [("private", LEAK)]
    r = page.post(path, {"body": "Order 4411 ships today", "kind": "public", "confirm": "1"})
    assert r.status_code == 303
    assert _sent(desk)[-1] == ("public", "Order 4411 ships today")


def test_the_composer_defaults_to_where_the_customer_last_wrote(desk: Desk) -> None:
    page = desk.page("agent")

    def checked() -> str:
        html = page.get(f"/tickets/{desk.ticket_id}").text
        found = re.search(r'name="kind" value="(\w+)"\s+checked', html)
        assert found
        return found[1]

    assert checked() == "public"
    # The customer moves to DM: the next reply defaults to a direct message.
    ingest(
        desk.db,
        post(desk.account_id, "d1", "here is my address", author="sarah", conversation="c1",
             minutes=5),
    )  # fmt: skip
    with desk.db.session() as s:
        ticket_of_dm = s.scalar(
            select(Message.ticket_id).where(Message.platform_message_id == "d1")
        )
    assert ticket_of_dm == desk.ticket_id
    assert checked() == "dm"
    # And back to public when they write in public again.
    ingest(desk.db, post(desk.account_id, "p2", "still here", author="sarah", reply_to="p1",
                         minutes=9))  # fmt: skip
    assert checked() == "public"
