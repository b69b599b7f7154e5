"""Saved inbox filters: the stored query (table-driven), saving from the inbox with a
live count in the sidebar, private vs shared, rename/delete by the owner only, the API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.actions import tickets as actions
from socialdesk.actions.saved_filters import clean_filter_query
from socialdesk.store.db import Database
from socialdesk.store.models import AuditEntry, Message, SavedFilter, Ticket, User
from socialdesk.web.pages import inbox as inbox_page
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_pages import PASSWORD, app_db, client, sign_in

__all__ = ["app_db", "client"]

CASES: list[tuple[dict[str, Any], dict[str, Any] | str]] = [
    ({}, {}),
    ({"view": "open", "sort": "newest"}, {}),  # defaults are left out
    ({"view": "mine", "channel": "x", "tag": " Refund "},
     {"view": "mine", "channel": "x", "tag": "refund"}),
    ({"account": "3", "team": 4, "q": " parcel ", "sort": "urgent"},
     {"account": 3, "team": 4, "q": "parcel", "sort": "urgent"}),
    ({"view": "", "q": "  "}, {}),
    ({"view": "everything"}, "unknown view"),
    ({"channel": "myspace"}, "unknown channel"),
    ({"account": "abc"}, "account must be an id"),
    ({"sort": "random"}, "unknown sort"),
    ({"colour": "red"}, "unknown filter 'colour'"),
    ({"q": "x" * 201}, "at most 200"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_clean_filter_query(raw: dict[str, Any], expected: dict[str, Any] | str) -> None:
    if isinstance(expected, str):
        with pytest.raises(ValueError, match=expected):
            clean_filter_query(raw)
    else:
        assert clean_filter_query(raw) == expected


def seed(db: Database) -> dict[str, int]:
    account = make_account(db)
    ingest(
        db,
        post(account, "p1", "My parcel never arrived", author="sarah"),
        post(account, "p2", "Refund please, the parcel is broken", author="tom"),
        post(account, "p3", "Love the new app!", author="lee"),
    )
    with db.write() as s:
        agent = s.scalar(select(User).where(User.email == "agent@example.com"))
        refund = s.scalar(
            select(Ticket)
            .join(Message, Message.ticket_id == Ticket.id)
            .where(Message.platform_message_id == "p2")
        )
        assert agent is not None and refund is not None
        actions.set_tags(s, refund, agent, ["refund"])
        return {"refund": refund.id}


def sidebar_counts(html: str) -> dict[str, int]:
    return {
        name: int(count)
        for name, count in re.findall(
            r'data-saved-filter="\d+"[^>]*>\s*<span>([^<]+)</span>.*?data-saved-count="\d+">(\d+)<',
            html,
            re.S,
        )
    }


def test_save_a_filter_and_see_it_with_its_count(client: TestClient, app_db: Database) -> None:
    ids = seed(app_db)
    csrf = sign_in(client, "agent@example.com")
    page = client.get("/inbox", params={"q": "parcel"})
    assert page.status_code == 200
    assert "Refund please" in page.text and "Love the new app" not in page.text
    r = client.post(
        "/inbox/saved-filters",
        data={"csrf_token": csrf, "name": "Parcel problems", "q": "parcel", "view": "open"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/inbox?view=open&q=parcel"
    page = client.get("/inbox")
    assert sidebar_counts(page.text) == {"Parcel problems": 2}
    # The saved filter's page marks it current in the sidebar.
    page = client.get("/inbox?view=open&q=parcel")
    assert re.search(r'data-saved-filter="\d+" aria-current="page"', page.text)
    # A tag filter counts tagged tickets only; the count follows changes (after the TTL
    # cache is dropped, as every write through the pages does).
    client.post(
        "/inbox/saved-filters",
        data={"csrf_token": csrf, "name": "Refunds", "tag": "refund", "shared": "1"},
    )
    assert sidebar_counts(client.get("/inbox").text) == {"Parcel problems": 2, "Refunds": 1}
    with app_db.write() as s:
        ticket = s.get(Ticket, ids["refund"])
        agent = s.scalar(select(User).where(User.email == "agent@example.com"))
        assert ticket is not None and agent is not None
        actions.set_tags(s, ticket, agent, [])
    inbox_page.forget_counts()
    assert sidebar_counts(client.get("/inbox").text)["Refunds"] == 0
    with app_db.session() as s:
        actions_logged = set(s.scalars(select(AuditEntry.action)))
    assert "saved_filter.created" in actions_logged


def test_private_and_shared_filters_and_owner_only_changes(
    client: TestClient, app_db: Database
) -> None:
    seed(app_db)
    csrf = sign_in(client, "agent@example.com")
    for name, shared in (("Mine only", ""), ("Team view", "1")):
        r = client.post(
            "/inbox/saved-filters",
            data={"csrf_token": csrf, "name": name, "view": "unassigned", "shared": shared},
        )
        assert r.status_code == 303
    # Same name twice for one owner is refused.
    r = client.post("/inbox/saved-filters", data={"csrf_token": csrf, "name": "Mine only"})
    assert r.status_code == 409
    with app_db.session() as s:
        by_name = {f.name: f.id for f in s.scalars(select(SavedFilter))}
    lead = TestClient(client.app, follow_redirects=False)
    lead_csrf = sign_in(lead, "lead@example.com")
    seen = sidebar_counts(lead.get("/inbox").text)
    assert seen == {"Team view": 3}
    # Not the owner: neither rename nor delete.
    r = lead.post(
        f"/inbox/saved-filters/{by_name['Team view']}",
        data={"csrf_token": lead_csrf, "action": "delete"},
    )
    assert r.status_code == 403
    r = lead.post(
        f"/inbox/saved-filters/{by_name['Mine only']}",
        data={"csrf_token": lead_csrf, "action": "rename", "name": "stolen"},
    )
    assert r.status_code == 403
    # The owner renames (and un-shares) one and deletes the other.
    r = client.post(
        f"/inbox/saved-filters/{by_name['Team view']}",
        data={"csrf_token": csrf, "action": "rename", "name": "Unassigned, mine"},
    )
    assert r.status_code == 303
    assert sidebar_counts(lead.get("/inbox").text) == {}
    r = client.post(
        f"/inbox/saved-filters/{by_name['Mine only']}",
        data={"csrf_token": csrf, "action": "delete"},
    )
    assert r.status_code == 303
    assert sidebar_counts(client.get("/inbox").text) == {"Unassigned, mine": 3}
    # Without the CSRF token nothing changes.
    assert client.post("/inbox/saved-filters", data={"name": "x"}).status_code == 403


def api_token(c: TestClient, email: str) -> dict[str, str]:
    r = c.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_saved_filters_api(client: TestClient, app_db: Database) -> None:
    seed(app_db)
    agent = api_token(client, "agent@example.com")
    lead = api_token(client, "lead@example.com")
    r = client.post(
        "/api/v1/saved-filters",
        headers=agent,
        json={"name": "Parcels", "query": {"q": "parcel", "view": "open"}, "shared": True},
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["query"] == {"q": "parcel"} and created["shared"] is True
    r = client.post(
        "/api/v1/saved-filters", headers=agent, json={"name": "Bad", "query": {"view": "nope"}}
    )
    assert r.status_code == 422 and "unknown view" in r.json()["error"]["reason"]
    client.post(
        "/api/v1/saved-filters", headers=agent, json={"name": "Private", "query": {"tag": "refund"}}
    )
    listed = client.get("/api/v1/saved-filters", headers=agent).json()
    assert [(f["name"], f["count"]) for f in listed] == [("Parcels", 2), ("Private", 1)]
    assert [f["name"] for f in client.get("/api/v1/saved-filters", headers=lead).json()] == [
        "Parcels"
    ]
    assert client.delete(f"/api/v1/saved-filters/{created['id']}", headers=lead).status_code == 403
    assert client.delete(f"/api/v1/saved-filters/{created['id']}", headers=agent).status_code == 204
    assert client.delete(f"/api/v1/saved-filters/{created['id']}", headers=agent).status_code == 404
    assert [f["name"] for f in client.get("/api/v1/saved-filters", headers=agent).json()] == [
        "Private"
    ]
