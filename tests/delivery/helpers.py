"""Shared by the delivery tests that go through the REST API: a loopback app server with
an admin's bearer-token client, and waiting for a condition."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, Role
from socialdesk.store.db import Database
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve

PASSWORD = "correct horse battery"


def eventually(probe: Callable[[], Any], timeout: float = 20) -> Any:
    """The probe's first truthy value, polled every 0.1 s; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def admin_api(db: Database) -> Iterator[Callable[[Settings], Any]]:
    """``start(settings)`` serves the app (with its workers) on loopback and returns
    ``(base_url, client)``: the client is on ``/api/v1`` as an admin."""
    with db.write() as s:
        create_user(s, "admin@example.com", PASSWORD, Role.ADMIN, workspace=ensure_workspace(s))

    servers: list[Any] = []

    def start(settings: Settings) -> tuple[str, httpx.Client]:
        server = serve(create_app(settings, db))
        base = server.__enter__()
        servers.append(server)
        client = httpx.Client(base_url=base + "/api/v1", timeout=30)
        token = client.post(
            "/auth/token", json={"email": "admin@example.com", "password": PASSWORD}
        )
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        return base, client

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def connect_x_brand(x: httpx.Client, db: Database, username: str = "AcmeSupport") -> str:
    """The brand's user on the X emulator, connected to ``db`` with a working token;
    its X user id."""
    brand = x.post("/_emulator/users", json={"username": username}).json()
    token = x.post("/_emulator/tokens", json={"user_id": brand["id"]}).json()["access_token"]
    with db.write() as s:
        create_channel_account(
            s,
            None,
            workspace_id=ensure_workspace(s).id,
            platform=Platform.X,
            handle=username,
            external_id=brand["id"],
            secrets={"access_token": token},
        )
    return str(brand["id"])


def connect_bluesky_brand(api: httpx.Client, emulator: Any, pds_url: str) -> int:
    """The Bluesky emulator's brand account, connected through the API (app password,
    polled every 0.2 s); its channel account id."""
    created = api.post(
        "/channel-accounts",
        json={
            "platform": "bluesky",
            "handle": emulator.brand_handle,
            "external_id": emulator.brand_did,
            "secrets": {"app_password": emulator.app_password},
            "settings": {"base_url": pds_url, "poll_interval_seconds": 0.2},
        },
    )
    assert created.status_code == 201, created.text
    return int(created.json()["id"])
