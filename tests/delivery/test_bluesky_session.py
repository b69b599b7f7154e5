"""Bluesky logs in once: the session it gets is stored (encrypted) with the account, so
the poller, the delivery worker and the next start all resume it instead of calling
createSession again, which Bluesky rate-limits hard."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.auth.secret_box import decrypt_secrets
from socialdesk.channels.bluesky.emulator import create_bluesky_app
from socialdesk.config import Settings
from socialdesk.domain.enums import Role
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database
from socialdesk.store.models import AuditEntry, ChannelAccount
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from tests.delivery.helpers import PASSWORD, connect_bluesky_brand, eventually


@pytest.fixture
def pds() -> Iterator[tuple[httpx.Client, Any]]:
    app = create_bluesky_app()
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, app.state.emulator


@contextmanager
def _signed_in(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base + "/api/v1", timeout=30) as api:
        token = api.post("/auth/token", json={"email": "admin@example.com", "password": PASSWORD})
        api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield api


def _mention_becomes_a_ticket(api: httpx.Client, pds: httpx.Client, text: str) -> int:
    pds.post("/_emulator/customer/mention", json={"handle": "dana.bsky.social", "text": text})

    def ticket() -> int | None:
        found = api.get("/tickets", params={"channel": "bluesky", "q": text}).json()["data"]
        return int(found[0]["id"]) if found else None

    return int(eventually(ticket))


def test_one_login_serves_poller_delivery_and_the_next_start(
    db: Database, pds: tuple[httpx.Client, Any]
) -> None:
    client, emulator = pds
    with db.write() as s:
        create_user(s, "admin@example.com", PASSWORD, Role.ADMIN, workspace=ensure_workspace(s))

    with serve(create_app(Settings(), db)) as base, _signed_in(base) as api:
        account_id = connect_bluesky_brand(api, emulator, str(client.base_url))
        ticket_id = _mention_becomes_a_ticket(api, client, "my order 881 is late")
        api.post(f"/tickets/{ticket_id}/replies", json={"body": "Sorry! It ships today."})
        eventually(
            lambda: (
                api.get(f"/tickets/{ticket_id}").json()["messages"][-1]["delivery_state"] == "sent"
            )
        )
    assert client.get("/_emulator/stats").json()["createSession"] == 1

    with db.session() as s:
        account = s.get(ChannelAccount, account_id)
        assert account is not None and account.secrets_encrypted is not None
        stored = decrypt_secrets(account.secrets_encrypted)
        assert stored["access_jwt"] and stored["refresh_jwt"]
        assert stored["access_jwt"].encode() not in account.secrets_encrypted  # encrypted
        refreshed = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "channel_account.secrets_refreshed")
        ).all()
        assert refreshed and refreshed[-1].data == {"secret_names": ["access_jwt", "refresh_jwt"]}

    # A restart: the stored session is resumed; no second login.
    with serve(create_app(Settings(), db)) as base, _signed_in(base) as api:
        _mention_becomes_a_ticket(api, client, "and the app logs me out")
    assert client.get("/_emulator/stats").json()["createSession"] == 1
