"""Issue 11, item 3: one sign-in throttle for the token endpoint and the web login
(per account, per client address, across processes because it lives in the database),
forwarded-for believed only from trusted proxies, tokens listed and revoked, and
changing one's own password."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from socialdesk.auth.throttle import ACCOUNT_LIMIT, ADDRESS_LIMIT
from socialdesk.config import get_settings
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import AuditEntry, AuthThrottle, Membership
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from tests.api.conftest import PASSWORD, Api


def _guess(c: httpx.Client, email: str, password: str = "wrong guess", **headers: str) -> int:
    r = c.post("/auth/token", json={"email": email, "password": password}, headers=headers)
    return r.status_code


def _web_login(base_url: str, email: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=30, follow_redirects=False) as web:
        page = web.get("/login")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match
        return web.post(
            "/login", data={"email": email, "password": password, "csrf_token": match.group(1)}
        )


def _expire_locks(db: Database) -> None:
    past = utcnow() - timedelta(seconds=1)
    with db.write() as s:
        s.execute(
            update(AuthThrottle).values(
                locked_until=past, window_started_at=past - ACCOUNT_LIMIT.window
            )
        )


def test_200_wrong_guesses_at_the_api_lock_both_doors_until_the_lock_runs_out(
    api: Api,
) -> None:
    root = api.base_url
    with api.client() as c:
        codes = [_guess(c, "agent@example.com") for _ in range(200)]
        assert codes[: ACCOUNT_LIMIT.failures] == [401] * ACCOUNT_LIMIT.failures
        assert set(codes[ACCOUNT_LIMIT.failures :]) == {429}
        refused = c.post("/auth/token", json={"email": "agent@example.com", "password": PASSWORD})
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
        assert "too many failed sign-ins" in refused.json()["error"]["reason"]
        # The locked address gets no token for the right password either, and the web
        # login, the other door, refuses it too.
        web = _web_login(root, "agent@example.com", PASSWORD)
        assert web.status_code == 429
        assert "Too many failed sign-ins" in web.text
        assert int(web.headers["Retry-After"]) > 0

        _expire_locks(api.db)
        assert _guess(c, "agent@example.com", PASSWORD) == 200
        assert _web_login(root, "agent@example.com", PASSWORD).status_code == 303


def test_200_wrong_guesses_at_the_web_login_refuse_a_token(api: Api) -> None:
    codes = [_web_login(api.base_url, "viewer@example.com", "wrong").status_code for _ in range(20)]
    assert codes[: ACCOUNT_LIMIT.failures] == [401] * ACCOUNT_LIMIT.failures
    assert set(codes[ACCOUNT_LIMIT.failures :]) == {429}
    with api.client() as c:
        assert _guess(c, "viewer@example.com", PASSWORD) == 429
    with api.db.session() as s:
        keys = {k: n for k, n in s.execute(select(AuthThrottle.key, AuthThrottle.failures))}
    assert keys["account:viewer@example.com"] == ACCOUNT_LIMIT.failures
    assert keys["address:127.0.0.1"] == ACCOUNT_LIMIT.failures


def test_one_address_guessing_many_accounts_is_locked_out_of_all(api: Api) -> None:
    with api.client() as c:
        codes = [_guess(c, f"nobody{i}@example.com") for i in range(ADDRESS_LIMIT.failures + 5)]
        assert codes[: ADDRESS_LIMIT.failures] == [401] * ADDRESS_LIMIT.failures
        assert set(codes[ADDRESS_LIMIT.failures :]) == {429}
        # admin never had a failure; the address is what is locked.
        assert _guess(c, "admin@example.com", PASSWORD) == 429


def test_forwarded_for_is_ignored_from_a_peer_that_is_not_a_trusted_proxy(api: Api) -> None:
    with api.client() as c:
        for i in range(ADDRESS_LIMIT.failures):
            # A client rotating X-Forwarded-For still counts as its own address.
            assert _guess(c, f"n{i}@example.com", **{"X-Forwarded-For": f"198.51.100.{i}"}) == 401
        assert _guess(c, "admin@example.com", PASSWORD, **{"X-Forwarded-For": "192.0.2.1"}) == 429


@pytest.fixture
def behind_proxy(api: Api) -> Iterator[str]:
    settings = get_settings().model_copy(update={"trusted_proxies": "127.0.0.1, 10.0.0.0/8"})
    with serve(create_app(settings, api.db)) as url:
        yield url + "/api/v1"


def test_forwarded_for_from_a_trusted_proxy_names_the_client(behind_proxy: str) -> None:
    with httpx.Client(base_url=behind_proxy, timeout=30) as c:
        attacker = {"X-Forwarded-For": "203.0.113.5, 10.1.2.3"}  # client, then an inner proxy
        for i in range(ADDRESS_LIMIT.failures):
            assert _guess(c, f"n{i}@example.com", **attacker) == 401
        assert _guess(c, "admin@example.com", PASSWORD, **attacker) == 429
        # Prepending a made-up hop does not help: the rightmost untrusted hop counts.
        spoof = {"X-Forwarded-For": "192.0.2.77, 203.0.113.5"}
        assert _guess(c, "admin@example.com", PASSWORD, **spoof) == 429
        # Someone else behind the same proxy signs in.
        other = {"X-Forwarded-For": "203.0.113.9"}
        assert _guess(c, "admin@example.com", PASSWORD, **other) == 200


def _token(c: httpx.Client, email: str, name: str = "") -> dict[str, object]:
    r = c.post("/auth/token", json={"email": email, "password": PASSWORD, "name": name})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_tokens_are_listed_without_the_token_and_revoked(api: Api) -> None:
    with api.client() as anon:
        laptop = _token(anon, "agent@example.com", "laptop")
        ci = _token(anon, "agent@example.com", "CI")
        admin = _token(anon, "admin@example.com")
    with api.client(str(laptop["access_token"])) as c:
        listed = c.get("/auth/tokens")
        assert listed.status_code == 200
        rows = listed.json()
        assert [(t["id"], t["name"], t["current"]) for t in rows] == [
            (laptop["id"], "laptop", True),
            (ci["id"], "CI", False),
        ]
        assert set(rows[0]) == {
            "id",
            "user_id",
            "name",
            "created_at",
            "last_used_at",
            "expires_at",
            "current",
        }
        assert str(laptop["access_token"]) not in listed.text
        # Another user's token looks missing to an agent.
        assert c.delete(f"/auth/tokens/{admin['id']}").status_code == 404
        assert c.get("/auth/tokens", params={"user_id": 1}).status_code == 403
        assert c.delete(f"/auth/tokens/{ci['id']}").status_code == 204
    with api.client(str(ci["access_token"])) as c:
        assert c.get("/me").status_code == 401
    with api.client(str(laptop["access_token"])) as c:
        assert c.delete("/auth/token").status_code == 204
        assert c.get("/me").status_code == 401
    with api.client() as anon:
        again = _token(anon, "agent@example.com")
    with api.client(str(admin["access_token"])) as c:
        assert c.delete(f"/auth/tokens/{again['id']}").status_code == 204
    with api.client(str(again["access_token"])) as c:
        assert c.get("/me").status_code == 401
    with api.db.session() as s:
        entries = s.execute(
            select(AuditEntry.action, AuditEntry.object_id, AuditEntry.workspace_id).where(
                AuditEntry.action == "api_token.revoked"
            )
        ).all()
        workspace_id = s.scalar(select(Membership.workspace_id).limit(1))
    assert sorted(e.object_id for e in entries) == sorted([ci["id"], laptop["id"], again["id"]])
    assert {e.workspace_id for e in entries} == {workspace_id}


def test_change_own_password_ends_other_sessions_and_tokens(api: Api) -> None:
    new = "a new and better passphrase"
    with api.client() as anon:
        keep = _token(anon, "agent@example.com")
        other = _token(anon, "agent@example.com")
    browser = _web_login(api.base_url, "agent@example.com", PASSWORD)
    assert browser.status_code == 303
    with api.client(str(keep["access_token"])) as c:
        wrong = c.post("/auth/password", json={"current_password": "no", "new_password": new})
        assert wrong.status_code == 403
        assert wrong.json()["error"]["reason"] == "the current password is wrong"
        for weak in ("password", "12345678", "short"):
            r = c.post("/auth/password", json={"current_password": PASSWORD, "new_password": weak})
            assert r.status_code == 422
            assert "password" in r.json()["error"]["reason"]
        ok = c.post("/auth/password", json={"current_password": PASSWORD, "new_password": new})
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"status": "changed", "ended": 2}  # the other token + the browser
        assert c.get("/me").status_code == 200
    with api.client(str(other["access_token"])) as c:
        assert c.get("/me").status_code == 401
    with httpx.Client(base_url=api.base_url, cookies=browser.cookies, timeout=30) as web:
        assert web.get("/inbox", follow_redirects=False).status_code == 303
    with api.client() as anon:
        assert _guess(anon, "agent@example.com", PASSWORD) == 401
        assert _guess(anon, "agent@example.com", new) == 200
    with api.db.session() as s:
        audit = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.password_changed")
        ).one()
        assert audit.workspace_id is not None
        assert audit.data == {"ended": 2}


def test_wrong_current_passwords_count_towards_the_throttle(api: Api) -> None:
    with api.client() as anon:
        token = _token(anon, "agent@example.com")
    with api.client(str(token["access_token"])) as c:
        body = {"current_password": "guess", "new_password": "a new and better passphrase"}
        codes = [c.post("/auth/password", json=body).status_code for _ in range(8)]
    assert codes[: ACCOUNT_LIMIT.failures] == [403] * ACCOUNT_LIMIT.failures
    assert set(codes[ACCOUNT_LIMIT.failures :]) == {429}
