"""Phone, walk-in and other contacts logged by agents (issue 13 item 4): one action, two
doors (``POST /api/v1/tickets`` and the inbox's "Log a contact" form), and their own
channel in the overview report, beside the social networks."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from socialdesk.store.db import utcnow
from socialdesk.store.models import AuditEntry, ContactIdentity, Message, Ticket, TicketEvent
from tests.api.doors import Desk, desk_fixture
from tests.pipeline.helpers import ingest, post

__all__ = ["desk_fixture"]


def _log(desk: Desk, who: str, **fields: object) -> dict:  # type: ignore[type-arg]
    with desk.api(who) as api:
        r = api.post("/tickets", json=fields)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_api_logs_a_phone_call_as_a_ticket_of_its_own_channel(desk: Desk) -> None:
    body = _log(
        desk,
        "agent",
        channel="phone",
        name="Ann Caller",
        phone="+33 6 12 34 56 78",
        email="Ann@Example.org",
        summary="Wanted her refund status\nTold her it left on Monday",
        handle_seconds=420,
        solved=True,
    )
    assert body["platform"] == "phone"
    assert body["status"] == "solved"
    assert body["subject"] == "Wanted her refund status"
    assert body["assignee_id"] == desk.user_id("agent")
    assert body["needs_reply"] is False
    assert body["channel_account_id"] is None
    assert body["contact"]["display_name"] == "Ann Caller"
    assert [m["direction"] for m in body["messages"]] == ["note"]
    first_message = body["first_message_at"]
    with desk.db.session() as s:
        kinds = list(
            s.scalars(
                select(TicketEvent.kind)
                .where(TicketEvent.ticket_id == body["id"])
                .order_by(TicketEvent.id)
            )
        )
        assert kinds == ["created", "contact_logged", "status_changed"]
        logged = s.scalar(
            select(TicketEvent.data).where(
                TicketEvent.ticket_id == body["id"], TicketEvent.kind == "contact_logged"
            )
        )
        assert logged is not None and logged["handle_seconds"] == 420
        assert s.scalar(
            select(AuditEntry.id).where(
                AuditEntry.object_id == body["id"], AuditEntry.action == "ticket.contact_logged"
            )
        )
        phones = list(s.scalars(select(ContactIdentity.external_user_id)))
        assert "+33612345678" in phones
    # The call began handle_seconds before it was logged.
    assert first_message < body["created_at"]

    # The same caller again, by phone number only: the same contact.
    again = _log(
        desk, "agent", channel="phone", phone="+33612345678", summary="x", handle_seconds=60
    )
    assert again["contact"]["id"] == body["contact"]["id"]
    assert again["status"] == "open"


def test_api_refuses_what_cannot_be_logged(desk: Desk) -> None:
    good = {"channel": "walk_in", "summary": "Returned a kettle", "handle_seconds": 300}
    with desk.api("agent") as api:
        for bad, word in (
            ({"channel": "fax"}, "channel"),
            ({"handle_seconds": -1}, "handle_seconds"),
            ({"handle_seconds": 10**6}, "handle_seconds"),
            ({"summary": "   "}, "summary"),
            ({"phone": "call me"}, "phone"),
            ({"email": "nobody"}, "e-mail"),
            ({"started_at": (utcnow() + timedelta(hours=1)).isoformat()}, "future"),
            ({"started_at": "2026-01-01T10:00:00"}, "time zone"),
        ):
            r = api.post("/tickets", json={**good, **bad})
            assert r.status_code == 422, (bad, r.text)
            assert word in r.text, (bad, r.text)
    with desk.api("viewer") as api:
        r = api.post("/tickets", json=good)
        assert r.status_code == 403
    assert desk.count(Ticket, Ticket.platform == "walk_in") == 0


def test_inbox_form_logs_a_walk_in_through_the_same_action(desk: Desk) -> None:
    page = desk.page("agent")
    inbox = page.get("/inbox").text
    assert 'action="/inbox/log-contact"' in inbox and "Walk-in" in inbox
    r = page.post(
        "/inbox/log-contact",
        {
            "channel": "walk_in",
            "name": "Bob",
            "summary": "Came in with a broken kettle; swapped it",
            "handle_minutes": "7.5",
            "solved": "1",
        },
    )
    assert r.status_code == 303, r.text
    ticket_id = int(r.headers["location"].rsplit("/", 1)[1])
    conversation = page.get(r.headers["location"])
    assert conversation.status_code == 200
    assert "broken kettle" in conversation.text and "Walk-in" in conversation.text
    with desk.db.session() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        assert (ticket.platform, ticket.status) == ("walk_in", "solved")
        handle = s.scalar(
            select(TicketEvent.data["handle_seconds"].as_integer()).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "contact_logged"
            )
        )
        assert handle == 450
        assert s.scalar(select(Message.body).where(Message.ticket_id == ticket_id)).startswith(
            "Came in"
        )
    bad = page.post(
        "/inbox/log-contact", {"channel": "walk_in", "summary": "x", "handle_minutes": "soon"}
    )
    assert bad.status_code == 422 and "minutes" in bad.text
    viewer = desk.page("viewer").post(
        "/inbox/log-contact", {"channel": "phone", "summary": "x", "handle_minutes": "1"}
    )
    assert viewer.status_code == 403


def test_logged_contacts_are_their_own_channel_in_the_overview(desk: Desk) -> None:
    for seconds, solved in ((300, True), (600, False), (900, True)):
        _log(desk, "agent", channel="phone", summary="call", handle_seconds=seconds, solved=solved)
    _log(desk, "agent", channel="walk_in", summary="visit", handle_seconds=120, solved=True)
    # A social post of today beside them (the fixture's own post is from 2017).
    recent = post(desk.account_id, "today", "@AcmeSupport still waiting", author="zoe")
    ingest(desk.db, replace(recent, created_at=utcnow() - timedelta(minutes=5)))
    today = utcnow().date()
    with desk.api("lead") as api:
        r = api.get(
            "/reports/overview",
            params={
                "since": str(today - timedelta(days=1)),
                "until": str(today + timedelta(days=1)),
                "by": "channel",
            },
        )
    assert r.status_code == 200, r.text
    rows = {row["key"]: row for row in r.json()["rows"]}
    assert set(rows) == {"x", "phone", "walk_in"}
    phone = rows["phone"]
    assert (phone["opened"], phone["solved"], phone["handled"]) == (3, 2, 3)
    assert phone["handle_median_seconds"] == 600
    assert phone["handle_average_seconds"] == 600
    assert phone["touches_average"] == 1.0
    # A live conversation has no wait to measure: no first response, not in the 24 h rate.
    assert phone["responded"] == 0 and phone["eligible_24h"] == 0
    assert phone["net_new_customers"] == 0
    assert rows["walk_in"]["handle_median_seconds"] == 120
    assert rows["x"]["opened"] == 1 and rows["x"]["eligible_24h"] == 0
    # A social ticket has no handle time measured.
    assert rows["x"]["handled"] == 0 and rows["x"]["handle_median_seconds"] is None
    assert r.json()["totals"]["handled"] == 4
