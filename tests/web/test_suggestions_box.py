"""The conversation page's suggestions box: the composer loads it, and it lists the
article and the past answer for the latest customer message with insert buttons."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.actions.inbox import send_reply
from socialdesk.store.db import Database
from socialdesk.store.models import Message, Ticket, User
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_canned_responses import _bearer
from tests.web.test_pages import app_db, client, sign_in

__all__ = ["app_db", "client"]


def test_suggestions_box_on_the_conversation_page(client: TestClient, app_db: Database) -> None:
    account = make_account(app_db)
    ingest(app_db, post(account, "p1", "@AcmeSupport where is my parcel? order 77", author="sarah"))
    with app_db.write() as s:
        lead = s.scalars(select(User).where(User.email == "lead@example.com")).one()
        first = s.scalar(select(Message.ticket_id).where(Message.platform_message_id == "p1"))
        send_reply(
            s, s.get_one(Ticket, first), lead, "@sarah Sorry Sarah, a new parcel is on its way. ^L"
        )
    ingest(app_db, post(account, "p2", "@AcmeSupport my parcel is lost", author="tom", minutes=5))
    with app_db.session() as s:
        ticket_id = s.scalar(select(Message.ticket_id).where(Message.platform_message_id == "p2"))
    created = client.post(
        "/api/v1/kb/articles",
        json={"title": "Lost parcels", "body": "We resend a lost parcel.", "status": "published"},
        headers=_bearer(client, "lead@example.com"),
    )
    assert created.status_code == 201

    sign_in(client, "agent@example.com")
    page = client.get(f"/tickets/{ticket_id}").text
    assert f'hx-get="/tickets/{ticket_id}/suggestions"' in page
    box = client.get(f"/tickets/{ticket_id}/suggestions")
    assert box.status_code == 200
    assert "Lost parcels" in box.text
    link = re.search(r'data-text="(http[^"]+/h/\w+\?c=x)"', box.text)
    assert link, box.text
    # no display names here: the handle stands in for the name
    assert 'data-text="@tom Sorry tom, a new parcel is on its way. ^A"' in box.text
    assert client.get("/tickets/999999/suggestions").status_code == 404
