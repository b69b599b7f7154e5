"""The live check of a channel account's credentials, end to end: the account is
connected through the REST API or the settings page, the desk asks the network's
emulator over real HTTP whom the credentials belong to, and the answer is kept on the
account, shown on the page, audited, and moves the account to or from re-authorization."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.actions.channel_check import describe, same_account
from socialdesk.channels.base import Identity
from socialdesk.channels.meta.emulator import create_meta_emulator
from socialdesk.channels.whatsapp.emulator import create_whatsapp_emulator
from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.config import Settings
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database
from socialdesk.store.models import AuditEntry
from socialdesk.web.app import create_app
from tests.delivery.helpers import PASSWORD, admin_api

__all__ = ["admin_api"]  # a pytest fixture

X_SECRET = "emulated_consumer_secret"
META_SECRET = "emulated_app_secret"


@pytest.mark.parametrize(
    ("identity", "external_id", "handle", "same"),
    [
        (Identity("42", "acme"), "42", "acme", True),
        (Identity("42", "acme"), "43", "acme", False),  # the id decides when given
        (Identity("", "Acme"), "x", "@acme", True),  # no id: the handle, any case
        (Identity("", "other"), "x", "acme", False),
    ],
)
def test_same_account(identity: Identity, external_id: str, handle: str, same: bool) -> None:
    assert same_account(identity, external_id, handle) is same


@pytest.mark.parametrize(
    ("state", "identity", "reason", "says"),
    [
        ("confirmed", Identity("42", "acme"), "", "X confirms the credentials belong to @acme"),
        ("mismatch", Identity("7", "agency"), "", "belong to @agency (id 7), not @acme"),
        ("refused", None, "401 Unauthorized", "X refused the credentials: 401 Unauthorized"),
        ("unreachable", None, "timed out", "could not be reached"),
    ],
)
def test_every_outcome_reads_as_a_sentence(
    state: str, identity: Identity | None, reason: str, says: str
) -> None:
    assert says in describe(state, "X", "acme", identity, reason)


def _meta_settings(url: str) -> Settings:
    return Settings(meta_app_secret=META_SECRET, meta_verify_token="vt", meta_graph_base_url=url)


def _check(api: httpx.Client, account_id: int) -> dict[str, Any]:
    r = api.post(f"/channel-accounts/{account_id}/check")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_x_token_confirmed_then_refused_after_revoke(
    admin_api: Callable[[Settings], Any], db: Database
) -> None:
    with (
        serve_app(create_x_emulator(X_SECRET)) as x_url,
        httpx.Client(base_url=x_url) as x,
    ):
        brand = x.post("/_emulator/users", json={"username": "AcmeSupport"}).json()
        other = x.post("/_emulator/users", json={"username": "AgencyLogin"}).json()
        token = x.post("/_emulator/tokens", json={"user_id": brand["id"]}).json()["access_token"]
        wrong = x.post("/_emulator/tokens", json={"user_id": other["id"]}).json()["access_token"]
        _, api = admin_api(Settings(x_consumer_secret=X_SECRET, x_api_base_url=x_url))

        def connect(handle: str, external_id: str, access_token: str) -> int:
            created = api.post(
                "/channel-accounts",
                json={
                    "platform": "x",
                    "handle": handle,
                    "external_id": external_id,
                    "secrets": {"access_token": access_token},
                },
            )
            assert created.status_code == 201, created.text
            assert created.json()["credential_check"] is None
            account_id: int = created.json()["id"]
            return account_id

        good = connect("AcmeSupport", brand["id"], token)
        confirmed = _check(api, good)
        assert confirmed["state"] == "confirmed" and confirmed["ok"] is True
        assert confirmed["identity"] == {
            "external_id": brand["id"],
            "handle": "AcmeSupport",
            "name": "AcmeSupport",
        }
        stored = api.get(f"/channel-accounts/{good}").json()
        assert stored["credential_check"]["state"] == "confirmed"
        assert token not in str(stored)

        # A token that works but is someone else's: accepted by X, flagged by the desk.
        mismatched = _check(api, connect("AcmeBilling", "999000", wrong))
        assert mismatched["state"] == "mismatch" and mismatched["ok"] is False
        assert "@AgencyLogin" in mismatched["message"]

        # The brand removes the app: the next check says so and asks for a new token.
        x.post("/_emulator/tokens/revoke", json={"user_id": brand["id"]})
        refused = _check(api, good)
        assert refused["state"] == "refused"
        account = api.get(f"/channel-accounts/{good}").json()
        assert account["needs_reauthorization"] is True
        assert "refused the credentials" in account["status_reason"]

        # A fresh token and another check bring the account back.
        fresh = x.post("/_emulator/tokens", json={"user_id": brand["id"]}).json()["access_token"]
        api.patch(f"/channel-accounts/{good}", json={"secrets": {"access_token": fresh}})
        x.post("/_emulator/tokens/revoke", json={"user_id": "nobody"})
        assert _check(api, good)["state"] == "confirmed"
        assert api.get(f"/channel-accounts/{good}").json()["status"] == "active"
    with db.session() as s:
        checks = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "channel_account.credentials_checked")
        ).all()
    assert [c.data["state"] for c in checks] == ["confirmed", "mismatch", "refused", "confirmed"]
    assert all(token not in str(c.data) for c in checks)


def test_meta_page_and_instagram_and_whatsapp_number(
    admin_api: Callable[[Settings], Any],
) -> None:
    with (
        serve_app(create_meta_emulator(META_SECRET)) as meta_url,
        httpx.Client(base_url=meta_url) as meta,
        serve_app(create_whatsapp_emulator(META_SECRET)) as wa_url,
        httpx.Client(base_url=wa_url) as wa,
    ):
        _, meta_api = admin_api(
            Settings(
                meta_app_secret=META_SECRET, meta_verify_token="vt", meta_graph_base_url=meta_url
            )
        )
        ids = {}
        for kind, platform, name in (
            ("page", "facebook", "Acme"),
            ("instagram", "instagram", "acme_ig"),
        ):
            account = meta.post(
                "/_emulator/accounts", json={"kind": kind, "name": name, "username": name}
            ).json()
            token = meta.post("/_emulator/tokens", json={"account_id": account["id"]}).json()
            created = meta_api.post(
                "/channel-accounts",
                json={
                    "platform": platform,
                    "handle": name,
                    "external_id": account["id"],
                    "secrets": {"access_token": token["access_token"]},
                },
            ).json()
            ids[platform] = (created["id"], account["id"], token["access_token"])
            checked = _check(meta_api, created["id"])
            assert checked["state"] == "confirmed", checked
            assert checked["identity"]["external_id"] == account["id"]
            assert checked["identity"]["handle"] == name

        account_id, _, token = ids["facebook"]
        meta.post("/_emulator/tokens/invalidate", json={"access_token": token})
        refused = _check(meta_api, account_id)
        assert refused["state"] == "refused", refused
        assert meta_api.get(f"/channel-accounts/{account_id}").json()["needs_reauthorization"]

        wa.post(
            "/_emulator/numbers",
            json={
                "phone_number_id": "106540352242922",
                "access_token": "EAAG-wa",
                "display_phone_number": "+1 555 010 2030",
                "verified_name": "Acme",
            },
        )
        _, wa_api = admin_api(
            Settings(
                meta_app_secret=META_SECRET, meta_verify_token="vt", meta_graph_base_url=wa_url
            )
        )
        number = wa_api.post(
            "/channel-accounts",
            json={
                "platform": "whatsapp",
                "handle": "+1 555 010 2030",
                "external_id": "106540352242922",
                "secrets": {"access_token": "EAAG-wa"},
            },
        ).json()
        checked = _check(wa_api, number["id"])
        assert checked["state"] == "confirmed", checked
        assert checked["identity"]["name"] == "Acme"
        wa_api.patch(f"/channel-accounts/{number['id']}", json={"secrets": {"access_token": "bad"}})
        assert _check(wa_api, number["id"])["state"] == "refused"


def test_unreachable_network_concludes_nothing_and_webform_has_nothing_to_check(
    admin_api: Callable[[Settings], Any],
) -> None:
    # A port nothing listens on: connection refused, answered at once.
    _, api = admin_api(Settings(x_api_base_url="http://127.0.0.1:9"))
    x = api.post(
        "/channel-accounts",
        json={
            "platform": "x",
            "handle": "AcmeSupport",
            "external_id": "1",
            "secrets": {"access_token": "t"},
        },
    ).json()
    unreachable = _check(api, x["id"])
    assert unreachable["state"] == "unreachable"
    assert api.get(f"/channel-accounts/{x['id']}").json()["status"] == "active"
    form = api.post(
        "/channel-accounts",
        json={"platform": "web", "handle": "contact form", "external_id": "site"},
    ).json()
    assert _check(api, form["id"])["state"] == "unsupported"
    assert api.post("/channel-accounts/987654/check").status_code == 404


def test_agents_may_not_check(admin_api: Callable[[Settings], Any], db: Database) -> None:
    from socialdesk.actions.admin import create_user, ensure_workspace
    from socialdesk.domain.enums import Role

    _, api = admin_api(Settings())
    form = api.post(
        "/channel-accounts",
        json={"platform": "web", "handle": "contact form", "external_id": "site"},
    ).json()
    with db.write() as s:
        create_user(s, "agent@example.com", PASSWORD, Role.AGENT, workspace=ensure_workspace(s))
    agent = httpx.Client(base_url=str(api.base_url), timeout=30)
    token = agent.post("/auth/token", json={"email": "agent@example.com", "password": PASSWORD})
    agent.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    assert agent.post(f"/channel-accounts/{form['id']}/check").status_code == 403


def test_connecting_on_the_page_checks_and_confirms(db: Database) -> None:
    from socialdesk.actions.admin import create_user, ensure_workspace
    from socialdesk.domain.enums import Role
    from tests.web.test_pages import sign_in

    with db.write() as s:
        create_user(s, "admin@example.com", PASSWORD, Role.ADMIN, workspace=ensure_workspace(s))
    with (
        serve_app(create_x_emulator(X_SECRET)) as x_url,
        httpx.Client(base_url=x_url) as x,
    ):
        brand = x.post("/_emulator/users", json={"username": "AcmeSupport"}).json()
        token = x.post("/_emulator/tokens", json={"user_id": brand["id"]}).json()["access_token"]
        settings = Settings(x_consumer_secret=X_SECRET, x_api_base_url=x_url)
        with TestClient(create_app(settings, db), follow_redirects=False) as c:
            csrf = sign_in(c, "admin@example.com")
            r = c.post(
                "/settings/channels",
                data={
                    "csrf_token": csrf,
                    "platform": "x",
                    "handle": "AcmeSupport",
                    "external_id": brand["id"],
                    "credential": token,
                },
            )
            assert r.status_code == 303, r.text
            assert re.fullmatch(r"/settings/channels\?checked=\d+", r.headers["location"])
            page = c.get(r.headers["location"]).text
            assert "credentials confirmed" in page
            assert (
                f"X (Twitter) confirms the credentials belong to @AcmeSupport (id {brand['id']})"
                in page
            )
            assert token not in page

            account_id = r.headers["location"].rsplit("=", 1)[1]
            x.post("/_emulator/tokens/revoke", json={"user_id": brand["id"]})
            again = c.post(f"/settings/channels/{account_id}/check", data={"csrf_token": csrf})
            assert again.status_code == 303
            page = c.get(again.headers["location"]).text
            assert "credentials refused" in page
            assert "re-authorize needed" in page
            assert c.get("/settings/channels?checked=abc").status_code == 200
