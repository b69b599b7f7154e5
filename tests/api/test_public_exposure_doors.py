"""A customer who posts their phone number in public: the API's message object and the
conversation page flag it the same way, and stop once the post is hidden."""

from __future__ import annotations

from sqlalchemy import select

from socialdesk.store.db import utcnow
from socialdesk.store.models import Message
from tests.api.doors import Desk
from tests.pipeline.helpers import ingest, post


def test_both_doors_flag_a_public_post_with_personal_data(desk: Desk) -> None:
    ingest(
        desk.db,
        post(desk.account_id, "p2", "Still nothing. Call me on +44 20 7946 0958", author="sarah",
             minutes=5, reply_to="p1"),
        post(desk.account_id, "d1", "My number is +44 20 7946 0958", author="sarah",
             minutes=6, conversation="dm-1"),
    )  # fmt: skip
    api = desk.api("agent")
    page = desk.page("agent")

    def flagged_by_api() -> dict[str, list[str]]:
        ticket = api.get(f"/tickets/{desk.ticket_id}").json()
        return {m["platform_message_id"]: m["personal_data"] for m in ticket["messages"]}

    assert flagged_by_api() == {"p1": [], "p2": ["phone"], "d1": []}
    thread = page.get(f"/tickets/{desk.ticket_id}").text
    assert thread.count('class="pii-warning"') == 1
    assert "This public post shows a phone number." in thread

    # Once hidden from the public, neither door flags it any more.
    with desk.db.write() as s:
        hidden = s.scalars(select(Message).where(Message.platform_message_id == "p2")).one()
        hidden.hidden_at = utcnow()
    assert flagged_by_api()["p2"] == []
    assert 'class="pii-warning"' not in page.get(f"/tickets/{desk.ticket_id}").text
