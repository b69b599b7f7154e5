"""Canned responses are edited and deleted through the API and the settings page, with
the same rules (admins and leads only, shortcuts unique), each change audited."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.store.db import Database
from socialdesk.store.models import AuditEntry, CannedResponse
from tests.web.test_pages import PASSWORD, app_db, client, sign_in

__all__ = ["app_db", "client"]


def _bearer(client: TestClient, email: str) -> dict[str, str]:
    login = {"email": email, "password": PASSWORD}
    token = client.post("/api/v1/auth/token", json=login).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _create(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    created = client.post("/api/v1/canned-responses", json=body, headers=headers)
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return result


def test_canned_responses_over_the_api(client: TestClient, app_db: Database) -> None:
    lead = _bearer(client, "lead@example.com")
    agent = _bearer(client, "agent@example.com")
    thanks = _create(
        client, lead, shortcut="/Thanks", body="Thank you, {first_name}!", short_body="Thx!"
    )
    assert (thanks["shortcut"], thanks["title"]) == ("thanks", "thanks")
    _create(client, lead, shortcut="dm", body="Please DM us.")
    listed = client.get("/api/v1/canned-responses", headers=agent).json()
    assert [c["shortcut"] for c in listed] == ["dm", "thanks"]

    url = f"/api/v1/canned-responses/{thanks['id']}"
    changed = client.patch(
        url, json={"body": "Many thanks, {first_name}.", "title": "Thanks"}, headers=lead
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() | {"created_at": None} == thanks | {
        "body": "Many thanks, {first_name}.",
        "title": "Thanks",
        "created_at": None,
    }
    cleared = client.patch(url, json={"short_body": None}, headers=lead).json()
    assert cleared["short_body"] is None and cleared["body"] == "Many thanks, {first_name}."

    clash = client.patch(url, json={"shortcut": "dm"}, headers=lead)
    assert clash.status_code == 409 and "/dm already exists" in clash.json()["error"]["reason"]
    assert client.patch(url, json={"body": None}, headers=lead).status_code == 422
    assert client.patch(url, json={"body": "x"}, headers=agent).status_code == 403
    assert client.delete(url, headers=agent).status_code == 403

    assert client.delete(url, headers=lead).status_code == 204
    assert client.get(url, headers=agent).status_code == 404
    assert client.delete(url, headers=lead).status_code == 404
    with app_db.session() as s:
        actions = list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_type == "canned_response")
                .order_by(AuditEntry.id)
            )
        )
    assert actions == [
        "canned_response.saved",
        "canned_response.saved",
        "canned_response.saved",
        "canned_response.saved",
        "canned_response.deleted",
    ]


def test_canned_responses_edited_and_deleted_on_the_settings_page(
    client: TestClient, app_db: Database
) -> None:
    csrf = sign_in(client, "lead@example.com")
    added = client.post(
        "/settings/canned",
        data={"csrf_token": csrf, "shortcut": "delay", "body": "Your parcel is late, sorry."},
    )
    assert added.status_code == 303
    with app_db.session() as s:
        canned_id = s.scalar(select(CannedResponse.id).where(CannedResponse.shortcut == "delay"))
    page = client.get("/settings/canned").text
    assert f'action="/settings/canned/{canned_id}"' in page
    assert f'action="/settings/canned/{canned_id}/delete"' in page

    edited = client.post(
        f"/settings/canned/{canned_id}",
        data={
            "csrf_token": csrf,
            "shortcut": "late",
            "title": "Parcel late",
            "body": "Your parcel is a day late; sorry, {first_name}.",
            "short_body": "Parcel late, sorry!",
        },
    )
    assert edited.status_code == 303
    assert "Canned response saved." in client.get(edited.headers["location"]).text
    with app_db.session() as s:
        canned = s.get(CannedResponse, canned_id)
        assert canned is not None
        assert (canned.shortcut, canned.title, canned.short_body) == (
            "late",
            "Parcel late",
            "Parcel late, sorry!",
        )

    no_body = client.post(
        f"/settings/canned/{canned_id}", data={"csrf_token": csrf, "shortcut": "late", "body": " "}
    )
    assert no_body.status_code == 422
    missing = client.post("/settings/canned/999999/delete", data={"csrf_token": csrf})
    assert missing.status_code == 404
    no_csrf = client.post(f"/settings/canned/{canned_id}/delete")
    assert no_csrf.status_code in (400, 403)
    deleted = client.post(f"/settings/canned/{canned_id}/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 303
    with app_db.session() as s:
        assert s.get(CannedResponse, canned_id) is None


def test_agents_cannot_edit_canned_responses_on_the_page(client: TestClient) -> None:
    csrf = sign_in(client, "agent@example.com")
    refused = client.post("/settings/canned/1/delete", data={"csrf_token": csrf})
    assert refused.status_code == 403
