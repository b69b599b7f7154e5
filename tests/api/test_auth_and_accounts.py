from __future__ import annotations

import httpx
from sqlalchemy import select

from socialdesk.store.models import AuditEntry, ChannelAccount
from tests.api.conftest import PASSWORD, Api


def test_token_flow_and_bad_credentials(api: Api) -> None:
    with api.client() as c:
        assert (
            c.post(
                "/auth/token", json={"email": "admin@example.com", "password": "nope"}
            ).status_code
            == 401
        )
        r = c.post("/auth/token", json={"email": "nobody@example.com", "password": PASSWORD})
        assert r.status_code == 401
        assert r.json()["error"]["reason"] == "wrong e-mail or password"
        assert (
            c.post(
                "/auth/token", content=b"{not json", headers={"content-type": "application/json"}
            ).status_code
            == 400
        )
        assert c.post("/auth/token", json=["x"]).status_code == 422
        form = c.post("/auth/token", data={"username": "admin@example.com", "password": PASSWORD})
        assert form.status_code == 200
        assert c.get("/me").status_code == 401
        assert c.get("/me", headers={"Authorization": "Bearer sd_wrong"}).status_code == 401
        assert c.get("/me", headers={"Authorization": "Basic abc"}).status_code == 401
        me = c.get("/me", headers={"Authorization": f"Bearer {form.json()['access_token']}"})
        assert me.json()["email"] == "admin@example.com"
        assert me.json()["role"] == "admin"


def test_channel_account_crud_keeps_secrets_write_only(api: Api, admin: httpx.Client) -> None:
    r = admin.post(
        "/channel-accounts",
        json={
            "platform": "x",
            "handle": "@AcmeSupport",
            "external_id": "2244994945",
            "secrets": {"access_token": "very-secret-token"},
        },
    )
    assert r.status_code == 201, r.text
    account = r.json()
    assert account["platform"] == "x"
    assert account["external_id"] == "2244994945"
    assert account["has_secrets"] is True
    assert account["secret_names"] == ["access_token"]
    assert "very-secret-token" not in r.text
    with api.db.session() as s:
        stored = s.scalar(select(ChannelAccount).where(ChannelAccount.id == account["id"]))
        assert stored is not None and stored.secrets_encrypted is not None
        assert b"very-secret-token" not in stored.secrets_encrypted
        audit_text = " ".join(str(e.data) for e in s.scalars(select(AuditEntry)))
        assert "very-secret-token" not in audit_text

    duplicate = admin.post(
        "/channel-accounts", json={"platform": "x", "handle": "other", "external_id": "2244994945"}
    )
    assert duplicate.status_code == 409
    bad = admin.post(
        "/channel-accounts", json={"platform": "myspace", "handle": "a", "external_id": "1"}
    )
    assert bad.status_code == 422
    assert "platform" in bad.json()["error"]["reason"]
    missing = admin.post("/channel-accounts", json={"platform": "x"})
    assert missing.status_code == 422

    patched = admin.patch(
        f"/channel-accounts/{account['id']}",
        json={"display_name": "Acme Care", "status": "needs_reauth"},
    )
    assert patched.json()["needs_reauthorization"] is True
    listed = admin.get("/channel-accounts").json()
    assert [a["handle"] for a in listed] == ["@AcmeSupport"]
    assert admin.delete(f"/channel-accounts/{account['id']}").status_code == 204
    assert admin.get(f"/channel-accounts/{account['id']}").status_code == 404


def test_agents_cannot_manage_accounts(agent: httpx.Client) -> None:
    r = agent.post(
        "/channel-accounts", json={"platform": "mastodon", "handle": "a", "external_id": "1"}
    )
    assert r.status_code == 403


def test_openapi_is_served(api: Api) -> None:
    spec = httpx.get(api.base_url + "/openapi.json", timeout=30).json()
    assert "/api/v1/tickets" in spec["paths"]
    assert "/api/v1/auth/token" in spec["paths"]


def test_a_mastodon_account_must_say_where_its_instance_is(admin: httpx.Client) -> None:
    nowhere = admin.post(
        "/channel-accounts", json={"platform": "mastodon", "handle": "support", "external_id": "1"}
    )
    assert nowhere.status_code == 422 and "needs its instance" in nowhere.text
    not_a_url = admin.post(
        "/channel-accounts",
        json={
            "platform": "mastodon",
            "handle": "support",
            "external_id": "1",
            "settings": {"base_url": "mastodon.social"},
        },
    )
    assert not_a_url.status_code == 422 and "http(s) URL" in not_a_url.text
    by_handle = admin.post(
        "/channel-accounts",
        json={"platform": "mastodon", "handle": "support@mastodon.social", "external_id": "1"},
    )
    assert by_handle.status_code == 201, by_handle.text
    account_id = by_handle.json()["id"]
    broken = admin.patch(
        f"/channel-accounts/{account_id}", json={"settings": {"base_url": "ftp://x"}}
    )
    assert broken.status_code == 422
    assert admin.get(f"/channel-accounts/{account_id}").json()["settings"].get("base_url") is None
