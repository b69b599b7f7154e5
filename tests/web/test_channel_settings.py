"""Settings → Channels over HTTP: health at a glance, connecting, re-authorizing and
pausing accounts, with the credential encrypted and every change audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.auth.secret_box import decrypt_secrets
from socialdesk.config import get_settings
from socialdesk.domain.enums import AccountStatus, Platform, Role
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount
from socialdesk.web.app import create_app
from tests.web.test_pages import PASSWORD, sign_in
from tests.web.test_settings_pages import audited


@pytest.fixture
def site(db: Database) -> Database:
    with db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, "admin@example.com", PASSWORD, Role.ADMIN, name="Ada", workspace=ws)
        create_user(s, "agent@example.com", PASSWORD, Role.AGENT, name="Aki", workspace=ws)
        broken = create_channel_account(
            s,
            None,
            workspace_id=ws.id,
            platform=Platform.X,
            handle="AcmeSupport",
            external_id="2244994945",
            secrets={"access_token": "old-token"},
        )
        broken.status = str(AccountStatus.NEEDS_REAUTH)
        broken.status_reason = "X answered 401: token revoked"
    return db


@pytest.fixture
def admin(site: Database) -> Iterator[tuple[TestClient, str]]:
    with TestClient(create_app(get_settings(), site), follow_redirects=False) as c:
        yield c, sign_in(c, "admin@example.com")


def _account(db: Database, handle: str) -> ChannelAccount:
    with db.session() as s:
        found = s.scalar(select(ChannelAccount).where(ChannelAccount.handle == handle))
        assert found is not None
        return found


def test_the_page_shows_state_reason_and_queue(admin: tuple[TestClient, str]) -> None:
    c, _ = admin
    r = c.get("/settings/channels")
    assert r.status_code == 200
    assert "@AcmeSupport" in r.text
    assert "re-authorize needed" in r.text
    assert "X answered 401: token revoked" in r.text
    assert "0 queued" in r.text
    assert 'href="/settings/channels" aria-current="page"' in r.text


def test_connecting_an_account_encrypts_the_credential(
    site: Database, admin: tuple[TestClient, str]
) -> None:
    c, csrf = admin
    r = c.post(
        "/settings/channels",
        data={
            "csrf_token": csrf,
            "platform": "bluesky",
            "handle": "@acme.bsky.social",
            "external_id": "did:plc:acme",
            "credential": "abcd-efgh-ijkl-mnop",
        },
    )
    assert r.status_code == 303, r.text
    account = _account(site, "acme.bsky.social")
    assert account.platform == "bluesky"
    assert account.secrets_encrypted is not None
    assert "abcd-efgh" not in str(account.secrets_encrypted)
    assert decrypt_secrets(account.secrets_encrypted) == {"app_password": "abcd-efgh-ijkl-mnop"}
    assert audited(site, "channel_account.created") == 2
    assert "abcd-efgh" not in c.get("/settings/channels").text


@pytest.mark.parametrize(
    ("form", "status", "reason"),
    [
        ({"platform": "myspace", "handle": "a", "external_id": "1"}, 400, "Unknown network"),
        ({"platform": "x", "handle": " ", "external_id": "1"}, 400, "handle is required"),
        ({"platform": "x", "handle": "a", "external_id": ""}, 400, "id of the account"),
        ({"platform": "x", "handle": "a", "external_id": "2244994945"}, 409, "already connected"),
    ],
)
def test_bad_connect_forms_say_why_and_keep_the_draft(
    admin: tuple[TestClient, str], form: dict[str, str], status: int, reason: str
) -> None:
    c, csrf = admin
    r = c.post("/settings/channels", data={"csrf_token": csrf, **form})
    assert r.status_code == status
    assert reason in r.text
    assert 'role="alert"' in r.text


def test_reauthorizing_rotates_the_token_and_clears_the_alert(
    site: Database, admin: tuple[TestClient, str]
) -> None:
    c, csrf = admin
    account_id = _account(site, "AcmeSupport").id
    missing = c.post(f"/settings/channels/{account_id}/reauthorize", data={"csrf_token": csrf})
    assert missing.status_code == 400
    assert "Paste the new credential" in missing.text
    r = c.post(
        f"/settings/channels/{account_id}/reauthorize",
        data={"csrf_token": csrf, "access_token": "fresh-token", "ignored_field": "x"},
    )
    assert r.status_code == 303
    account = _account(site, "AcmeSupport")
    assert account.status == AccountStatus.ACTIVE
    assert account.status_reason is None
    assert decrypt_secrets(account.secrets_encrypted) == {"access_token": "fresh-token"}
    assert audited(site, "channel_account.updated") == 1
    assert "re-authorize needed" not in c.get("/settings/channels").text


def test_pause_and_resume(site: Database, admin: tuple[TestClient, str]) -> None:
    c, csrf = admin
    account_id = _account(site, "AcmeSupport").id
    url = f"/settings/channels/{account_id}/status"
    assert c.post(url, data={"csrf_token": csrf, "status": "disabled"}).status_code == 303
    assert _account(site, "AcmeSupport").status == AccountStatus.DISABLED
    assert 'Resume<span class="sr-only"> @AcmeSupport' in c.get("/settings/channels").text
    assert c.post(url, data={"csrf_token": csrf, "status": "active"}).status_code == 303
    assert _account(site, "AcmeSupport").status == AccountStatus.ACTIVE
    bogus = c.post(url, data={"csrf_token": csrf, "status": "needs_reauth"})
    assert bogus.status_code == 400


def test_agents_and_forged_forms_are_refused(site: Database) -> None:
    with TestClient(create_app(get_settings(), site), follow_redirects=False) as c:
        csrf = sign_in(c, "agent@example.com")
        assert c.get("/settings/channels").status_code == 403
        denied = c.post("/settings/channels/1/status", data={"csrf_token": csrf, "status": "x"})
        assert denied.status_code == 403
    with TestClient(create_app(get_settings(), site), follow_redirects=False) as c:
        sign_in(c, "admin@example.com")
        account_id = _account(site, "AcmeSupport").id
        forged = c.post(f"/settings/channels/{account_id}/status", data={"status": "disabled"})
        assert forged.status_code == 403
    assert _account(site, "AcmeSupport").status == AccountStatus.NEEDS_REAUTH


def test_a_network_added_as_a_folder_is_offered_and_connected_like_the_others(
    site: Database, admin: tuple[TestClient, str]
) -> None:
    c, csrf = admin
    page = c.get("/settings/channels").text
    assert '<option value="whatsapp" >WhatsApp</option>' in page
    r = c.post(
        "/settings/channels",
        data={
            "csrf_token": csrf,
            "platform": "whatsapp",
            "handle": "+1 555 000 0000",
            "external_id": "106540352242922",
            "credential": "EAAG-token",
        },
    )
    assert r.status_code == 303, r.text
    account = _account(site, "+1 555 000 0000")
    assert account.platform == "whatsapp"
    assert decrypt_secrets(account.secrets_encrypted) == {"access_token": "EAAG-token"}
    # Its re-authorize form asks for the credential its descriptor names.
    assert "System user access token" in c.get("/settings/channels").text
