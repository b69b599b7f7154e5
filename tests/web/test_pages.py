"""The inbox pages over HTTP: sign-in, CSRF refusal, views, replies, approvals, and the
number of SQL queries each page costs (pinned, so an N+1 regression fails here)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from socialdesk.actions import tickets as actions
from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.actions.inbox import save_canned_response, set_posting_right
from socialdesk.actions.tickets import assign
from socialdesk.config import get_settings
from socialdesk.domain.enums import Role
from socialdesk.store.db import Database
from socialdesk.store.models import (
    ApprovalDraft,
    AuditEntry,
    Message,
    Notification,
    Team,
    Ticket,
    TicketEvent,
    TicketTag,
    User,
)
from socialdesk.web.app import create_app
from socialdesk.web.pages import inbox as inbox_page
from tests.pipeline.helpers import ingest, make_account, post
from tests.query_count import counting

PASSWORD = "correct horse battery"


@pytest.fixture
def app_db(db: Database) -> Database:
    with db.write() as s:
        ws = ensure_workspace(s)
        for email, role in (
            ("admin@example.com", Role.ADMIN),
            ("lead@example.com", Role.LEAD),
            ("agent@example.com", Role.AGENT),
            ("viewer@example.com", Role.VIEWER),
        ):
            create_user(s, email, PASSWORD, role, name=email.split("@")[0].title(), workspace=ws)
    inbox_page.forget_counts()
    return db


@pytest.fixture
def client(app_db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(get_settings(), app_db), follow_redirects=False) as c:
        yield c


def login_token(c: TestClient) -> str:
    page = c.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def sign_in(c: TestClient, email: str, password: str = PASSWORD) -> str:
    r = c.post("/login", data={"email": email, "password": password, "csrf_token": login_token(c)})
    assert r.status_code == 303, r.text
    page = c.get("/inbox")
    match = re.search(r'data-csrf="([^"]+)"', page.text)
    assert match
    return match.group(1)


def seed_ticket(db: Database, body: str = "My parcel never arrived, can you help?") -> int:
    account = make_account(db)
    ingest(db, post(account, "p1", body, author="sarah"))
    with db.session() as s:
        return int(s.scalar(select(Message.ticket_id).where(Message.platform_message_id == "p1")))


def test_pages_need_a_session(client: TestClient) -> None:
    r = client.get("/inbox?view=mine")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/inbox?view=mine"


def test_sign_in_sets_a_locked_down_cookie_and_logout_ends_it(client: TestClient) -> None:
    r = client.post(
        "/login",
        data={
            "email": "agent@example.com",
            "password": PASSWORD,
            "csrf_token": login_token(client),
        },
    )
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    csrf = re.search(r'data-csrf="([^"]+)"', client.get("/inbox").text)
    assert csrf
    assert client.post("/logout").status_code == 403  # no CSRF token
    assert client.post("/logout", data={"csrf_token": csrf.group(1)}).status_code == 303
    assert client.get("/inbox").status_code == 303


def test_login_form_without_csrf_is_refused(client: TestClient) -> None:
    client.get("/login")
    r = client.post("/login", data={"email": "agent@example.com", "password": PASSWORD})
    assert r.status_code == 403


def test_lockout_after_repeated_failures(client: TestClient) -> None:
    for _ in range(5):
        r = client.post(
            "/login",
            data={
                "email": "agent@example.com",
                "password": "wrong",
                "csrf_token": login_token(client),
            },
        )
        assert r.status_code == 401
    r = client.post(
        "/login",
        data={
            "email": "agent@example.com",
            "password": PASSWORD,
            "csrf_token": login_token(client),
        },
    )
    assert r.status_code == 429
    assert "locked" in r.text


def test_inbox_lists_an_ingested_ticket_with_counts(client: TestClient, app_db: Database) -> None:
    ticket_id = seed_ticket(app_db)
    sign_in(client, "agent@example.com")
    page = client.get("/inbox?view=unassigned").text
    assert f'data-ticket-id="{ticket_id}"' in page
    assert "My parcel never arrived" in page
    assert re.search(r'data-count="unassigned">1<', page)
    assert re.search(r'data-count="mine">0<', page)
    for query in ("view=solved", "sort=urgent", "sort=oldest", "channel=x", "view=pending"):
        assert client.get(f"/inbox?{query}").status_code == 200


def test_state_changes_without_csrf_are_refused(client: TestClient, app_db: Database) -> None:
    ticket_id = seed_ticket(app_db)
    csrf = sign_in(client, "agent@example.com")
    for path, data in (
        (f"/tickets/{ticket_id}/note", {"body": "hi"}),
        (f"/tickets/{ticket_id}/reply", {"body": "hi"}),
        (f"/tickets/{ticket_id}/update", {"status": "solved"}),
        ("/inbox/bulk", {"action": "solve", "ticket_id": str(ticket_id)}),
    ):
        assert client.post(path, data=data).status_code == 403, path
        assert client.post(path, data={**data, "csrf_token": "forged"}).status_code == 403
    r = client.post(f"/tickets/{ticket_id}/note", data={"body": "checked", "csrf_token": csrf})
    assert r.status_code == 303


def test_reply_note_and_bulk_go_through_actions(client: TestClient, app_db: Database) -> None:
    ticket_id = seed_ticket(app_db)
    csrf = sign_in(client, "agent@example.com")
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    r = client.post(
        f"/tickets/{ticket_id}/reply",
        data={"body": "Sorry to hear that, Sarah! Sending a DM.", "kind": "public", "solve": "1"},
        headers=headers,
    )
    assert r.status_code == 200 and "Sending a DM" in r.text and "queued" in r.text
    client.post(f"/tickets/{ticket_id}/note", data={"body": "VIP"}, headers=headers)
    with app_db.session() as s:
        kinds = [m.direction for m in s.scalars(select(Message).order_by(Message.id))]
        actions = set(s.scalars(select(AuditEntry.action)))
    assert kinds == ["inbound", "outbound", "note"]
    assert {"ticket.replied", "ticket.status_changed", "ticket.note_added"} <= actions
    r = client.post(
        "/inbox/bulk", data={"action": "assign_me", "ticket_id": str(ticket_id)}, headers=headers
    )
    assert r.status_code == 303
    assert f'data-ticket-id="{ticket_id}"' in client.get("/inbox?view=solved").text


def test_viewer_cannot_write(client: TestClient, app_db: Database) -> None:
    ticket_id = seed_ticket(app_db)
    csrf = sign_in(client, "viewer@example.com")
    r = client.post(f"/tickets/{ticket_id}/note", data={"body": "x", "csrf_token": csrf})
    assert r.status_code == 403


def test_composer_counts_like_the_network_and_fills_canned_variables(
    client: TestClient, app_db: Database
) -> None:
    ticket_id = seed_ticket(app_db)
    with app_db.write() as s:
        admin = s.scalar(select(User).where(User.email == "admin@example.com"))
        assert admin is not None
        save_canned_response(
            s,
            admin,
            ensure_workspace(s).id,
            shortcut="sorry",
            body="Hi {first_name}, {agent_initials}",
        )
    csrf = sign_in(client, "agent@example.com")
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    r = client.post(
        f"/tickets/{ticket_id}/composer",
        data={"body": "see https://example.com/a/very/long/path", "kind": "public"},
        headers=headers,
    )
    assert "27 / 280" in r.text  # "see " + a URL that X always counts as 23
    r = client.post(
        f"/tickets/{ticket_id}/composer",
        data={"body": "word " * 80, "kind": "public"},
        headers=headers,
    )
    assert "thread of 2 posts" in r.text
    r = client.get(f"/tickets/{ticket_id}/canned?q=sor")
    assert 'data-text="Hi sarah, A"' in r.text


def test_approval_flow(client: TestClient, app_db: Database) -> None:
    ticket_id = seed_ticket(app_db)
    with app_db.write() as s:
        admin = s.scalar(select(User).where(User.email == "admin@example.com"))
        agent = s.scalar(select(User).where(User.email == "agent@example.com"))
        assert admin and agent
        account_id = s.scalar(select(Message.channel_account_id))
        assert account_id
        set_posting_right(s, admin, agent, account_id, False)
    csrf = sign_in(client, "agent@example.com")
    r = client.post(
        f"/tickets/{ticket_id}/reply", data={"body": "Draft answer", "csrf_token": csrf}
    )
    assert r.status_code == 303
    with app_db.session() as s:
        draft = s.scalar(select(ApprovalDraft))
        assert draft and draft.state == "pending"
        assert s.scalar(select(Message).where(Message.direction == "outbound")) is None
    assert client.get("/approvals").status_code == 403
    client.cookies.clear()
    csrf = sign_in(client, "lead@example.com")
    assert "Draft answer" in client.get("/approvals").text
    r = client.post(
        f"/approvals/{draft.id}",
        data={"decision": "approve", "body": "Edited answer", "csrf_token": csrf},
    )
    assert r.status_code == 303
    with app_db.session() as s:
        sent = s.scalar(select(Message).where(Message.direction == "outbound"))
        assert sent and sent.body == "Edited answer" and sent.author_user_id == agent.id
        assert {"approval.submitted", "approval.approved"} <= set(
            s.scalars(select(AuditEntry.action))
        )


def test_query_counts_per_page_are_pinned(app_db: Database) -> None:
    # No background threads: their queries would land in the counted windows.
    quiet = get_settings().model_copy(update={"run_workers": False, "live_relay_seconds": 0})
    with TestClient(create_app(quiet, app_db), follow_redirects=False) as client:
        _pinned_query_counts(client, app_db)


def _pinned_query_counts(client: TestClient, app_db: Database) -> None:
    account = make_account(app_db)
    ingest(
        app_db,
        *[post(account, f"q{i}", f"question {i}", author=f"user{i}", minutes=i) for i in range(30)],
    )
    sign_in(client, "agent@example.com")
    with app_db.session() as s:
        ticket_id = s.scalar(select(Message.ticket_id).where(Message.platform_message_id == "q3"))
    client.get("/inbox")
    client.get(f"/tickets/{ticket_id}")  # warm the session touch
    inbox_page.forget_counts()
    with counting(app_db) as inbox_queries:
        assert client.get("/inbox").status_code == 200
    # The view counts are cached for a few seconds; measure the cached path right after
    # filling the cache, so a slow machine cannot let it expire in between.
    client.get("/inbox?view=unassigned")
    with counting(app_db) as cached_queries:
        assert client.get("/inbox?view=unassigned").status_code == 200
    with counting(app_db) as ticket_queries:
        assert client.get(f"/tickets/{ticket_id}").status_code == 200
    # session + memberships, accounts, teams, counts, SLA-at-risk count (cached with the
    # counts), the "Needs reply" and "Promises due" counts (cached too), saved filters
    # (none here, so no count query for them), list, reach, SLA marks of the page's rows,
    # members
    assert len(inbox_queries) == 13, "\n".join(inbox_queries)
    assert len(cached_queries) == 9, cached_queries
    # session + memberships, ticket, drafts, messages, contact, identities, other tickets,
    # account, user (posting right), posting right, tags, members, SLA mark (running clocks),
    # others on the ticket, this viewer's presence row and its heartbeat update, promises due,
    # peer answers, the crisis radar's incidents of the ticket (the banner; one join with
    # their accounts). The customer's sentiment trend comes from the messages already read.
    assert len(ticket_queries) == 21, "\n".join(ticket_queries)


def test_move_to_private_invites_or_sends_a_dm(client: TestClient, app_db: Database) -> None:
    ticket_id = seed_ticket(app_db)
    csrf = sign_in(client, "agent@example.com")
    page = client.get(f"/tickets/{ticket_id}").text
    assert f'action="/tickets/{ticket_id}/private"' in page
    assert client.post(f"/tickets/{ticket_id}/private", data={"mode": "invite"}).status_code == 403
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    r = client.post(f"/tickets/{ticket_id}/private", data={"mode": "invite"}, headers=headers)
    assert r.status_code == 200 and "public invitation to DM" in r.text
    assert "send us a DM" in r.text
    r = client.post(
        f"/tickets/{ticket_id}/private",
        data={"mode": "dm", "body": "Hi Sarah, could you share your order number?"},
        headers=headers,
    )
    assert r.status_code == 200 and "order number" in r.text
    assert (
        client.post(
            f"/tickets/{ticket_id}/private", data={"mode": "dm"}, headers=headers
        ).status_code
        == 422
    )
    with app_db.session() as s:
        sent = [
            (m.visibility, m.direction)
            for m in s.scalars(select(Message).where(Message.direction == "outbound"))
        ]
        events = set(s.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)))
    assert sorted(sent) == [("private", "outbound"), ("public", "outbound")]
    assert "moved_to_private" in events


def test_second_public_reply_within_two_minutes_asks_for_confirmation(
    client: TestClient, app_db: Database
) -> None:
    ticket_id = seed_ticket(app_db)
    csrf = sign_in(client, "lead@example.com")
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    url = f"/tickets/{ticket_id}/reply"
    first = {"body": "We're on it!", "kind": "public", "client_key": "k1"}
    assert "We&#39;re on it!" in client.post(url, data=first, headers=headers).text
    # The same submit retried is not a second reply.
    assert client.post(url, data=first, headers=headers).headers.get("hx-retarget") is None
    client.cookies.clear()
    csrf = sign_in(client, "agent@example.com")
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    second = {"body": "Hello! Can you DM us?", "kind": "public", "client_key": "k2", "solve": "1"}
    r = client.post(url, data=second, headers=headers)
    assert r.status_code == 200 and r.headers["hx-retarget"] == "#reply-confirm"
    assert "Send anyway" in r.text and "Lead" in r.text and 'name="confirm"' in r.text
    # A DM is not guarded, and a plain form post gets the confirm page (409).
    dm = {"body": "Private note to you", "kind": "dm", "client_key": "k3"}
    assert client.post(url, data=dm, headers=headers).headers.get("hx-retarget") is None
    r = client.post(url, data={**second, "csrf_token": csrf})
    assert r.status_code == 409 and "Send anyway" in r.text and "Can you DM us?" in r.text
    with app_db.session() as s:
        public = s.scalars(
            select(Message.body).where(
                Message.direction == "outbound", Message.visibility == "public"
            )
        ).all()
    assert public == ["We're on it!"]
    r = client.post(url, data={**second, "confirm": "1"}, headers=headers)
    assert r.status_code == 200 and "hx-retarget" not in r.headers and "Can you DM us?" in r.text
    with app_db.write() as s:
        bodies = s.scalars(
            select(Message.body)
            .where(Message.direction == "outbound", Message.visibility == "public")
            .order_by(Message.id)
        ).all()
        assert bodies == ["We're on it!", "Hello! Can you DM us?"]
        for m in s.scalars(select(Message).where(Message.direction == "outbound")):
            m.created_at = m.created_at - timedelta(minutes=3)
    # Outside the window a public reply goes straight out.
    third = {"body": "Following up", "kind": "public", "client_key": "k4"}
    r = client.post(url, data=third, headers=headers)
    assert "hx-retarget" not in r.headers and "Following up" in r.text


def test_mentions_in_notes_notify_the_user(client: TestClient, app_db: Database) -> None:
    ticket_id = seed_ticket(app_db)
    csrf = sign_in(client, "agent@example.com")
    assert 'data-unread="' not in client.get("/inbox").text
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    body = "@lead please check, and @admin@example.com too; mail x@agent.com, @agent, @nobody"
    r = client.post(f"/tickets/{ticket_id}/note", data={"body": body}, headers=headers)
    assert r.status_code == 200
    with app_db.session() as s:
        mentioned = {
            s.get(User, n.user_id).email  # type: ignore[union-attr]
            for n in s.scalars(select(Notification))
        }
    assert mentioned == {"lead@example.com", "admin@example.com"}  # not the author
    client.cookies.clear()
    csrf = sign_in(client, "lead@example.com")
    assert 'data-unread="1"' in client.get("/inbox").text
    page = client.get("/notifications").text
    assert "Agent</strong> mentioned you" in page and f"#{ticket_id}" in page
    assert client.post("/notifications/read", data={}).status_code == 403  # no CSRF
    with app_db.session() as s:
        lead_note = s.scalar(
            select(Notification.id)
            .join(User, User.id == Notification.user_id)
            .where(User.email == "lead@example.com")
        )
    r = client.post(
        "/notifications/read",
        data={"csrf_token": csrf, "notification_id": str(lead_note), "open_ticket": ticket_id},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/tickets/{ticket_id}"
    assert 'data-unread="' not in client.get("/inbox").text


def test_by_team_view_with_counts_and_bulk_add_tag(client: TestClient, app_db: Database) -> None:
    account = make_account(app_db)
    ingest(
        app_db, *[post(account, f"t{i}", f"team question {i}", author=f"u{i}") for i in range(3)]
    )
    with app_db.write() as s:
        ws = ensure_workspace(s)
        billing = Team(workspace_id=ws.id, name="Billing")
        s.add_all([billing, Team(workspace_id=ws.id, name="Shipping")])
        s.flush()
        lead = s.scalar(select(User).where(User.email == "lead@example.com"))
        assert lead is not None
        tickets = list(s.scalars(select(Ticket).order_by(Ticket.id)))
        for ticket in tickets[:2]:
            assign(s, ticket, lead, None, team_id=billing.id)
        actions.set_tags(s, tickets[0], lead, ["refund"])
        billing_id, ids = billing.id, [t.id for t in tickets]
    csrf = sign_in(client, "agent@example.com")
    page = client.get("/inbox").text
    assert re.search(rf'data-team-count="{billing_id}">2<', page) and "Shipping" in page
    for sort in ("newest", "urgent"):
        listed = client.get(f"/inbox?view=open&team={billing_id}&sort={sort}").text
        assert "team Billing" in listed
        found = {int(x) for x in re.findall(r'data-ticket-id="(\d+)"', listed)}
        assert found == set(ids[:2]), sort
    data = {"action": "tag", "tag": "Escalated", "ticket_id": [str(i) for i in ids[:2]]}
    assert client.post("/inbox/bulk", data=data).status_code == 403  # no CSRF
    r = client.post("/inbox/bulk", data={**data, "csrf_token": csrf})
    assert r.status_code == 303
    r = client.post("/inbox/bulk", data={**data, "tag": " ", "csrf_token": csrf})
    assert r.status_code == 422
    with app_db.session() as s:
        tags = {
            tid: sorted(s.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == tid)))
            for tid in ids
        }
        audited = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "ticket.tags_changed")
        )
    assert tags == {ids[0]: ["escalated", "refund"], ids[1]: ["escalated"], ids[2]: []}
    assert audited == 3


def test_most_urgent_sort_orders_by_priority_then_waiting(
    client: TestClient, app_db: Database
) -> None:
    account = make_account(app_db)
    ingest(app_db, *[post(account, f"u{i}", f"urgent sort {i}", author=f"w{i}") for i in range(5)])
    with app_db.write() as s:
        tickets = list(s.scalars(select(Ticket).order_by(Ticket.id)))
        now = tickets[0].last_message_at
        setup = [("normal", 10), ("high", 5), ("urgent", None), ("high", 50), ("normal", None)]
        for ticket, (priority, minutes) in zip(tickets, setup, strict=True):
            ticket.priority = priority
            ticket.awaiting_since = None if minutes is None else now - timedelta(minutes=minutes)
        ids = [t.id for t in tickets]
    sign_in(client, "agent@example.com")
    page = client.get("/inbox?view=open&sort=urgent").text
    listed = [int(x) for x in re.findall(r'data-ticket-id="(\d+)"', page)]
    assert listed == [ids[2], ids[3], ids[1], ids[0], ids[4]]
