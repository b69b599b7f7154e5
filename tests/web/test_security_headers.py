"""Security headers over real HTTP: the inbox's CSP, no framing, nosniff, a
Referrer-Policy and no-store on signed-in pages and API answers; /docs and /redoc have a
policy of their own that allows exactly their inline scripts; the public web form (embedded by
brands in an iframe) may be framed and its one inline style is allowed by hash. The
browser tests (tests/browser) prove the inbox runs under this CSP with no violation."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import httpx
import pytest

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.config import get_settings
from socialdesk.domain.enums import Platform, Role
from socialdesk.store.db import Database
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve

PASSWORD = "correct horse battery"


@pytest.fixture
def url(db: Database) -> Iterator[str]:
    with db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, "agent@example.com", PASSWORD, Role.AGENT, workspace=ws)
        create_channel_account(
            s, None, workspace_id=ws.id, platform=Platform.WEB, handle="Acme", external_id="form"
        )
    with serve(create_app(get_settings(), db)) as base:
        yield base


def _sign_in(client: httpx.Client) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    r = client.post(
        "/login",
        data={"email": "agent@example.com", "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert r.status_code == 303


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (p.split() for p in policy.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_signed_in_pages_and_api_answers_carry_the_headers(url: str) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        _sign_in(client)
        inbox = client.get("/inbox")
        assert inbox.status_code == 200
        token = httpx.post(
            url + "/api/v1/auth/token",
            json={"email": "agent@example.com", "password": PASSWORD},
            timeout=30,
        )
        api = httpx.get(
            url + "/api/v1/tickets",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=30,
        )
        assert api.status_code == 200
        for response in (inbox, api, token, client.get("/login")):
            h = response.headers
            csp = _directives(h["content-security-policy"])
            assert csp["script-src"] == ["'self'"]
            assert csp["style-src"] == ["'self'"]
            assert csp["frame-ancestors"] == ["'none'"]
            assert csp["object-src"] == ["'none'"]
            assert h["x-frame-options"] == "DENY"
            assert h["x-content-type-options"] == "nosniff"
            assert h["referrer-policy"] == "same-origin"
            assert h["cache-control"] == "no-store"
        # No inline script or event handler is left for the CSP to refuse.
        assert "<script>" not in inbox.text
        assert not re.search(r"\son[a-z]+=", inbox.text)
        static = client.get("/static/app.js")
        assert static.status_code == 200
        assert "no-store" not in static.headers.get("cache-control", "")
        assert static.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_api_docs_policy_allows_exactly_their_inline_scripts(url: str, path: str) -> None:
    docs = httpx.get(url + path, timeout=30)
    assert docs.status_code == 200
    csp = _directives(docs.headers["content-security-policy"])
    inline = re.findall(r"<script>(.*?)</script>", docs.text, flags=re.DOTALL)
    hashes = [s for s in csp["script-src"] if s.startswith("'sha256-")]
    assert hashes == [_sha256(body) for body in inline]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert docs.headers["x-frame-options"] == "DENY"
    assert docs.headers["cache-control"] == "no-store"


def test_the_web_form_may_be_framed_and_its_style_is_allowed_by_hash(url: str) -> None:
    form = httpx.get(url + "/hooks/web/form", timeout=30)
    assert form.status_code == 200
    assert "x-frame-options" not in form.headers
    csp = _directives(form.headers["content-security-policy"])
    styles = re.findall(r"<style>(.*?)</style>", form.text, flags=re.DOTALL)
    assert csp["style-src"] == [_sha256(body) for body in styles]
    assert csp["default-src"] == ["'none'"]
    assert form.headers["x-content-type-options"] == "nosniff"


def test_account_page_changes_the_password_and_revokes_tokens(url: str, db: Database) -> None:
    token = httpx.post(
        url + "/api/v1/auth/token",
        json={"email": "agent@example.com", "password": PASSWORD, "name": "laptop"},
        timeout=60,
    ).json()
    with (
        httpx.Client(base_url=url, timeout=60) as client,
        httpx.Client(base_url=url, timeout=60) as other_browser,
    ):
        _sign_in(client)
        _sign_in(other_browser)
        page = client.get("/account")
        assert page.status_code == 200
        assert "laptop" in page.text and token["access_token"] not in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf
        weak = client.post(
            "/account/password",
            data={
                "csrf_token": csrf.group(1),
                "current_password": PASSWORD,
                "new_password": "password",
            },
        )
        assert weak.status_code == 422 and "too easy to guess" in weak.text
        no_csrf = client.post(
            "/account/password",
            data={"current_password": PASSWORD, "new_password": "a new and better passphrase"},
        )
        assert no_csrf.status_code == 403
        ok = client.post(
            "/account/password",
            data={
                "csrf_token": csrf.group(1),
                "current_password": PASSWORD,
                "new_password": "a new and better passphrase",
            },
        )
        assert ok.status_code == 200 and "Password changed" in ok.text
        assert "2 other sessions and tokens ended" in ok.text
        assert client.get("/inbox").status_code == 200  # this browser stays signed in
        assert other_browser.get("/inbox", follow_redirects=False).status_code == 303
    me = httpx.get(
        url + "/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=60
    )
    assert me.status_code == 401
