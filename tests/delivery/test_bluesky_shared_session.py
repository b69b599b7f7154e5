"""Several connectors share one Bluesky session through the account's stored secrets.

Each process has a connector per registry (delivery, moderation, poller), each caching
the session. Bluesky revokes a refresh token once used, so after one connector refreshes,
another's cached refresh token is dead: that connector must take the stored pair over
instead of refreshing with its own (and marking the account as needing
re-authorization when that fails)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from socialdesk.actions.admin import create_channel_account, ensure_workspace, secrets_saver
from socialdesk.auth.secret_box import decrypt_secrets
from socialdesk.channels.base import AccountRef
from socialdesk.channels.bluesky.connector import BlueskyConnector
from socialdesk.channels.bluesky.emulator import create_bluesky_app
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.config import Settings
from socialdesk.domain.enums import AccountStatus, Platform
from socialdesk.loopback import serve_app
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.polling import poll_account
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount


@pytest.fixture
def pds() -> Iterator[tuple[str, Any]]:
    app = create_bluesky_app()
    with serve_app(app) as url:
        yield url, app.state.emulator


def _expire_access_tokens(url: str) -> None:
    with httpx.Client(base_url=url) as control:
        assert control.post("/_emulator/session/expire").json()["expired"] >= 1


def test_registries_share_a_refreshed_session_through_the_database(
    db: Database, pds: tuple[str, Any]
) -> None:
    url, emulator = pds
    with db.write() as s:
        account_id = create_channel_account(
            s,
            None,
            workspace_id=ensure_workspace(s).id,
            platform=Platform.BLUESKY,
            handle=emulator.brand_handle,
            external_id=emulator.brand_did,
            secrets={"app_password": emulator.app_password},
            settings={"base_url": url, "direct_messages": False},
        ).id

    async def two_registries() -> list[str | None]:
        # Two registries of one process, each with its own connector and cached session,
        # and storing the tokens it obtains with the account (as the app wires them).
        delivery = ConnectorRegistry(Settings(), save_secrets=secrets_saver(db))
        poller = ConnectorRegistry(Settings(), save_secrets=secrets_saver(db))
        errors = []
        try:
            for registry in (delivery, poller):  # one login; the other resumes it
                outcome = await poll_account(db, Pipeline(), registry, account_id)
                errors.append(outcome.error)
            _expire_access_tokens(url)
            for registry in (delivery, poller, delivery):
                outcome = await poll_account(db, Pipeline(), registry, account_id)
                errors.append(outcome.error)
        finally:
            await delivery.aclose()
            await poller.aclose()
        return errors

    assert asyncio.run(two_registries()) == [None] * 5
    assert emulator.stats["createSession"] == 1
    assert emulator.stats["refreshSession"] == 1  # the poller took the delivery's pair over
    with db.session() as s:
        account = s.get(ChannelAccount, account_id)
        assert account is not None
        assert account.status == AccountStatus.ACTIVE, account.status_reason
        assert account.secrets_encrypted is not None
        stored = decrypt_secrets(account.secrets_encrypted)
    live = [
        token
        for token, held in emulator.tokens.items()
        if held.scope == "com.atproto.refresh" and not held.revoked
    ]
    assert live == [stored["refresh_jwt"]]


class Store:
    """Plays the database: the account's secrets, as ``on_session`` last saved them."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.secrets: dict[str, str] = {"app_password": emulator.app_password}
        self.saves = 0

    def save(self, _account_id: int, access_jwt: str, refresh_jwt: str) -> None:
        self.secrets = {**self.secrets, "access_jwt": access_jwt, "refresh_jwt": refresh_jwt}
        self.saves += 1

    def account(self) -> AccountRef:
        """Built afresh for each operation, as the workers do from the database."""
        return AccountRef(
            id=7,
            platform=Platform.BLUESKY,
            external_id=self.emulator.brand_did,
            handle=self.emulator.brand_handle,
            secrets=dict(self.secrets),
            settings={"direct_messages": False},
        )


def test_a_stored_pair_that_expired_too_is_refreshed_with_its_own_token(
    pds: tuple[str, Any],
) -> None:
    url, emulator = pds
    store = Store(emulator)

    async def scenario() -> None:
        async with (
            BlueskyConnector(url, on_session=store.save) as first,
            BlueskyConnector(url, on_session=store.save) as second,
        ):
            await first.poll(store.account(), None)
            await second.poll(store.account(), None)
            _expire_access_tokens(url)
            await first.poll(store.account(), None)  # refreshes: second's token is revoked
            assert emulator.stats["refreshSession"] == 1
            _expire_access_tokens(url)  # ...and the pair first stored expires as well
            await second.poll(store.account(), None)
            assert emulator.stats["refreshSession"] == 2  # with the stored refresh token
            # The first connector, now the stale one, takes the second's pair over.
            await first.poll(store.account(), None)
            assert emulator.stats["refreshSession"] == 2

    asyncio.run(scenario())
    assert emulator.stats["createSession"] == 1
    assert store.saves == 3  # the login and the two refreshes


def test_a_connector_without_a_newer_stored_pair_still_refreshes(
    pds: tuple[str, Any],
) -> None:
    url, emulator = pds
    store = Store(emulator)

    async def scenario() -> None:
        async with BlueskyConnector(url, on_session=store.save) as connector:
            await connector.poll(store.account(), None)
            _expire_access_tokens(url)
            await connector.poll(store.account(), None)

    asyncio.run(scenario())
    assert (emulator.stats["createSession"], emulator.stats["refreshSession"]) == (1, 1)


def test_an_operation_that_read_the_account_before_a_refresh_keeps_the_newer_session(
    pds: tuple[str, Any],
) -> None:
    """An account read before this connector refreshed holds the pair it refreshed away
    from: adopting that (its refresh token revoked) would cost the live session."""
    url, emulator = pds
    store = Store(emulator)

    async def scenario() -> None:
        async with BlueskyConnector(url, on_session=store.save) as connector:
            await connector.poll(store.account(), None)
            read_early = store.account()
            _expire_access_tokens(url)
            await connector.poll(store.account(), None)  # refreshes
            _expire_access_tokens(url)
            await connector.poll(read_early, None)  # refreshes again, with its own token

    asyncio.run(scenario())
    assert (emulator.stats["createSession"], emulator.stats["refreshSession"]) == (1, 2)
