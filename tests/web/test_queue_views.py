"""The views a social team works from, over HTTP on the real database: "Needs reply" as
the default (customers waiting, longest first), counts per view, "Promises due", no
breach badge on a paused clock, and a Status select with labels that keeps "new"."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.actions import tickets as actions
from socialdesk.automation.followups import run_due_promises
from socialdesk.automation.step import run_sla_cycle
from socialdesk.sla.views import badge_mark
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import Ticket, User
from socialdesk.web.pages import inbox as inbox_page
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_pages import app_db, client, sign_in
from tests.web.test_sla_pages import PIPELINE, listed, row_of, seed, ticket_id

__all__ = ["app_db", "client"]


def _reply(db: Database, tid: int, body: str) -> None:
    with db.write() as s:
        ticket = s.get(Ticket, tid)
        agent = s.scalar(select(User).where(User.email == "agent@example.com"))
        assert ticket is not None and agent is not None
        actions.reply(s, ticket, agent, body)


def _queue(db: Database) -> dict[str, int]:
    """Five tickets: two customers waiting (the older first), one we answered, one we
    answered that got a bare thank-you, one solved."""
    account = make_account(db)
    ingest(
        db,
        post(account, "w1", "My parcel never came", author="ann", minutes=0),
        post(account, "w2", "Card declined twice", author="bob", minutes=30),
        post(account, "a1", "How do I reset my password?", author="cat", minutes=10),
        post(account, "t1", "Where is my refund?", author="dan", minutes=20),
        post(account, "s1", "App crashes on start", author="eve", minutes=5),
    )
    ids = {pid: ticket_id(db, pid) for pid in ("w1", "w2", "a1", "t1", "s1")}
    _reply(db, ids["a1"], "Use the link on the sign-in page.")
    _reply(db, ids["t1"], "Refunded today.")
    ingest(db, post(account, "t2", "thanks!", author="dan", reply_to="t1", minutes=10**6))
    _reply(db, ids["s1"], "Fixed in 2.1.")
    with db.write() as s:
        ticket = s.get(Ticket, ids["s1"])
        agent = s.scalar(select(User).where(User.email == "agent@example.com"))
        assert ticket is not None and agent is not None
        actions.set_status(s, ticket, agent, actions.TicketStatus.SOLVED)
    return ids


def _count(page: str, view: str) -> int:
    match = re.search(rf'data-count="{view}">(\d+)<', page)
    assert match, view
    return int(match.group(1))


def test_needs_reply_is_the_default_view_longest_wait_first(
    client: TestClient, app_db: Database
) -> None:
    ids = _queue(app_db)
    sign_in(client, "agent@example.com")
    page = client.get("/inbox").text
    assert re.search(r'<h1 id="list-title">Needs reply', page)
    assert listed(page) == [ids["w1"], ids["w2"]]
    assert _count(page, "needs_reply") == 2 and _count(page, "open") == 4
    assert _count(page, "pending") == 2 and _count(page, "promises_due") == 0
    # "All open" still lists everyone unsolved, newest first.
    assert listed(client.get("/inbox?view=open").text)[0] == ids["t1"]
    # The same view through the API, oldest first unless asked otherwise.
    token = client.post(
        "/api/v1/auth/token",
        json={"email": "agent@example.com", "password": "correct horse battery"},
    ).json()["access_token"]
    api = {"Authorization": f"Bearer {token}"}
    found = client.get("/api/v1/tickets", params={"view": "needs_reply"}, headers=api).json()
    assert [t["id"] for t in found["data"]] == [ids["w1"], ids["w2"]]
    newest = client.get(
        "/api/v1/tickets", params={"view": "needs_reply", "sort": "newest"}, headers=api
    ).json()
    assert [t["id"] for t in newest["data"]] == [ids["w2"], ids["w1"]]
    paged = client.get(
        "/api/v1/tickets", params={"view": "needs_reply", "limit": 1}, headers=api
    ).json()
    rest = client.get(
        "/api/v1/tickets",
        params={"view": "needs_reply", "limit": 1, "cursor": paged["next_cursor"]},
        headers=api,
    ).json()
    assert [t["id"] for t in paged["data"] + rest["data"]] == [ids["w1"], ids["w2"]]
    bad = client.get("/api/v1/tickets", params={"view": "everything"}, headers=api)
    assert bad.status_code == 422
    # Existing parameters keep working beside it.
    pending = client.get("/api/v1/tickets", params={"status": "pending"}, headers=api).json()
    assert {t["id"] for t in pending["data"]} == {ids["a1"], ids["t1"]}


def test_a_pending_ticket_shows_no_breach_badge(client: TestClient, app_db: Database) -> None:
    ids = seed(app_db)
    run_sla_cycle(app_db, utcnow())  # the old ticket's first response is breached
    sign_in(client, "agent@example.com")
    assert "SLA breached" in row_of(client.get("/inbox?view=open").text, ids["old"])
    _reply(app_db, ids["old"], "So sorry, refunded now.")  # pending: the clock is paused
    with app_db.session() as s:
        ticket = s.get(Ticket, ids["old"])
        assert ticket is not None and ticket.status == "pending" and ticket.sla_breached
    assert "SLA breached" not in row_of(client.get("/inbox?view=pending").text, ids["old"])
    assert "SLA breached" not in client.get(f"/tickets/{ids['old']}").text


def test_status_select_has_labels_and_keeps_new(client: TestClient, app_db: Database) -> None:
    account = make_account(app_db)
    ingest(app_db, post(account, "n1", "hello?", author="fay"), pipeline=PIPELINE)
    tid = ticket_id(app_db, "n1")
    csrf = sign_in(client, "agent@example.com")
    page = client.get(f"/tickets/{tid}").text
    select_html = re.search(r'<select id="f-status".*?</select>', page, re.S)
    assert select_html
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', select_html.group(0))
    assert options == [
        ("new", "New"), ("open", "Open"), ("pending", "Pending"), ("on_hold", "On hold"),
        ("solved", "Solved"), ("closed", "Closed"),
    ]  # fmt: skip
    assert 'value="new" selected' in select_html.group(0)
    assert '<p class="sub">New ·' in page
    # Saving tags with the form as shown keeps the ticket new.
    r = client.post(
        f"/tickets/{tid}/update",
        data={"status": "new", "priority": "normal", "tags": "billing", "assignee_id": ""},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 303
    with app_db.session() as s:
        ticket = s.get(Ticket, tid)
        assert ticket is not None and ticket.status == "new"
    with app_db.session() as s:
        assert actions.current_tags(s, tid) == ["billing"]
    # Once open, "new" is no longer offered (nothing sets a ticket back to new).
    client.post(
        f"/tickets/{tid}/update", data={"status": "on_hold"}, headers={"X-CSRF-Token": csrf}
    )
    page = client.get(f"/tickets/{tid}").text
    assert '<option value="new"' not in page and '<p class="sub">On hold ·' in page
    assert "on_hold ·" not in page


def test_promises_due_view_and_ticket_banner(client: TestClient, app_db: Database) -> None:
    account = make_account(app_db)
    ingest(app_db, post(account, "p1", "Where is my parcel?", author="gus"), pipeline=PIPELINE)
    tid = ticket_id(app_db, "p1")
    _reply(app_db, tid, "I'll check with the courier and get back to you in an hour.")
    sign_in(client, "agent@example.com")
    assert "Promise due" not in client.get(f"/tickets/{tid}").text
    with app_db.write() as s:
        assert run_due_promises(s, utcnow() + timedelta(hours=2)) == 1
    inbox_page.forget_counts()  # counts are cached for a few seconds
    page = client.get("/inbox?view=promises_due").text
    assert listed(page) == [tid] and _count(page, "promises_due") == 1
    assert listed(client.get("/inbox").text) == [tid]  # back in "Needs reply"
    ticket_page = client.get(f"/tickets/{tid}").text
    assert "Promise due" in ticket_page and "get back to you in an hour" in ticket_page
    # The promiser's notification says so, with the promise.
    notes = client.get("/notifications").text
    assert "<strong>Promise due</strong>" in notes and "still waiting" in notes


@pytest.mark.parametrize(
    ("status", "running", "breached", "badge"),
    [
        ("open", None, True, "breached"),  # breached earlier, customer still waiting
        ("new", "at_risk", False, "at_risk"),
        ("on_hold", None, True, "breached"),
        ("pending", None, True, None),  # clock paused: waiting on the customer
        ("solved", None, True, None),
        ("closed", None, True, None),
        ("pending", "breached", True, "breached"),  # a running clock always tells
        ("open", None, False, None),
    ],
)
def test_badge_mark(status: str, running: str | None, breached: bool, badge: str | None) -> None:
    assert badge_mark(status, running, breached) == badge
