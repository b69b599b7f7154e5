"""X user tokens expire after two hours: a call answered 401 refreshes the OAuth 2.0
token once (the refresh token rotates), stores the new pair encrypted and retries; a
grant X no longer honours puts the account in needs_reauth. Over real HTTP against the
X emulator, through the database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions import tickets as ticket_actions
from socialdesk.actions.admin import (
    create_channel_account,
    create_user,
    ensure_workspace,
    secrets_loader,
    secrets_saver,
)
from socialdesk.auth.secret_box import decrypt_secrets
from socialdesk.channels.accounts import account_ref
from socialdesk.channels.base import OutboundRequest, ReplyKind
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.config import Settings
from socialdesk.delivery.worker import DeliveryWorker
from socialdesk.domain.enums import Platform, Role
from socialdesk.emulators.server import serve_app
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.polling import poll_account
from socialdesk.store.db import Database
from socialdesk.store.models import AuditEntry, ChannelAccount, Message, Ticket, User
from tests.pipeline.helpers import ingest, post

SECRET = "emulated_consumer_secret"
CLIENT_ID = "desk-oauth-client"
CLIENT_SECRET = "desk-oauth-client-secret"
TOKEN_LIFETIME = 7200


@dataclass
class XWorld:
    emulator: httpx.Client
    url: str
    brand_id: str

    def issue(self, *, confidential: bool = False) -> dict[str, Any]:
        spec: dict[str, Any] = {"user_id": self.brand_id, "client_id": CLIENT_ID}
        if confidential:
            spec["client_secret"] = CLIENT_SECRET
        response = self.emulator.post("/_emulator/tokens", json=spec)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def expire_by_clock(self) -> None:
        """Two hours pass on X's side: every access token issued so far expires."""
        self.emulator.post("/_emulator/clock", json={"advance_seconds": TOKEN_LIFETIME + 1})

    def customer_tweet(self, text: str, username: str) -> dict[str, Any]:
        response = self.emulator.post(
            "/_emulator/customer/mention", json={"customer": {"username": username}, "text": text}
        )
        assert response.status_code == 200, response.text
        return dict(response.json()["tweet"])

    def refreshes(self) -> list[dict[str, Any]]:
        sent = self.emulator.get("/_emulator/sent").json()
        return [s for s in sent if s.get("endpoint") == "POST /2/oauth2/token"]

    def posts(self) -> list[dict[str, Any]]:
        sent = self.emulator.get("/_emulator/sent").json()
        return [s for s in sent if s.get("endpoint") == "POST /2/tweets"]


@pytest.fixture
def x_world() -> Iterator[XWorld]:
    with (
        serve_app(create_x_emulator(SECRET, retry_delay_seconds=0.05)) as url,
        httpx.Client(base_url=url) as client,
    ):
        brand = client.post(
            "/_emulator/users", json={"username": "AcmeSupport", "name": "Acme"}
        ).json()
        yield XWorld(client, url.rstrip("/"), brand["id"])


def _registry(db: Database, x_world: XWorld) -> ConnectorRegistry:
    """What each process builds: its own connectors, storing tokens in the database."""
    settings = Settings(x_consumer_secret=SECRET, x_api_base_url=x_world.url)
    return ConnectorRegistry(
        settings, save_secrets=secrets_saver(db), load_secrets=secrets_loader(db)
    )


def _account(
    db: Database,
    issued: dict[str, Any],
    brand_id: str,
    *,
    client_secret: str | None = None,
    settings: dict[str, Any] | None = None,
) -> int:
    secrets = {
        "access_token": issued["access_token"],
        "refresh_token": issued["refresh_token"],
        "client_id": CLIENT_ID,
    }
    if client_secret:
        secrets["client_secret"] = client_secret
    with db.write() as s:
        workspace = ensure_workspace(s)
        if s.scalar(select(User)) is None:
            create_user(
                s, "agent@example.com", "correct horse battery", Role.AGENT, workspace=workspace
            )
        return create_channel_account(
            s,
            None,
            workspace_id=workspace.id,
            platform=Platform.X,
            handle="AcmeSupport",
            external_id=brand_id,
            secrets=secrets,
            settings=settings,
        ).id


def _reply(db: Database, account_id: int, x_world: XWorld, customer: str, body: str) -> int:
    """A customer's mention becomes a ticket; an agent answers it. The message id."""
    tweet = x_world.customer_tweet(f"help please, {customer} here", customer)
    ingest(db, post(account_id, tweet["id_str"], tweet["text"], author=tweet["user"]["id_str"]))
    with db.write() as s:
        inbound = s.scalar(select(Message).where(Message.platform_message_id == tweet["id_str"]))
        agent = s.scalar(select(User))
        assert inbound is not None and agent is not None
        ticket = s.get(Ticket, inbound.ticket_id)
        assert ticket is not None
        return ticket_actions.reply(s, ticket, agent, body).id


def _message(db: Database, message_id: int) -> Message:
    with db.session() as s:
        message = s.get(Message, message_id)
        assert message is not None
        return message


def _channel(db: Database, account_id: int) -> tuple[ChannelAccount, dict[str, str]]:
    with db.session() as s:
        account = s.get(ChannelAccount, account_id)
        assert account is not None
        s.expunge(account)
        return account, decrypt_secrets(account.secrets_encrypted)


def _deliver(db: Database, x_world: XWorld) -> int:
    async def run() -> int:
        registry = _registry(db, x_world)
        try:
            return await DeliveryWorker(db, registry).run_once()
        finally:
            await registry.aclose()

    return asyncio.run(run())


def test_expired_token_is_refreshed_stored_encrypted_and_the_reply_sent(
    db: Database, x_world: XWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    issued = x_world.issue(confidential=True)
    account_id = _account(db, issued, x_world.brand_id, client_secret=CLIENT_SECRET)
    first = _reply(db, account_id, x_world, "jane_doe", "Sorry about that, looking now.")
    x_world.expire_by_clock()

    assert _deliver(db, x_world) == 1

    message = _message(db, first)
    assert message.delivery_state == "sent", message.delivery_error
    assert message.platform_message_id == x_world.posts()[0]["id"]
    [refresh] = x_world.refreshes()
    assert refresh["outcome"] == "refreshed" and refresh["confidential"] is True
    account, stored = _channel(db, account_id)
    assert account.status == "active"
    assert stored["access_token"] != issued["access_token"]
    assert stored["refresh_token"] != issued["refresh_token"]
    assert stored["client_id"] == CLIENT_ID and stored["client_secret"] == CLIENT_SECRET
    assert stored["access_token"].encode() not in account.secrets_encrypted
    assert stored["refresh_token"].encode() not in account.secrets_encrypted
    with db.session() as s:
        audits = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "channel_account.secrets_refreshed")
        ).all()
    assert [(a.object_id, a.data) for a in audits] == [
        (account_id, {"secret_names": ["access_token", "refresh_token"]})
    ]
    # X rotated the refresh token: the one we started with is dead.
    reused = x_world.emulator.post(
        "/2/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    assert reused.status_code == 400
    assert reused.json() == {
        "error": "invalid_request",
        "error_description": "Value passed for the token was invalid.",
    }

    # Two more hours: the second refresh must use the rotated refresh token.
    second = _reply(db, account_id, x_world, "hal", "We have refunded your order.")
    x_world.expire_by_clock()
    assert _deliver(db, x_world) == 1
    assert _message(db, second).delivery_state == "sent"
    outcomes = [r["outcome"] for r in x_world.refreshes()]
    assert outcomes == ["refreshed", "invalid_token", "refreshed"]  # ours, the reuse, ours
    account, rotated = _channel(db, account_id)
    assert account.status == "active"
    assert rotated["refresh_token"] not in (stored["refresh_token"], issued["refresh_token"])

    tokens = {issued["access_token"], issued["refresh_token"], CLIENT_SECRET}
    tokens |= {stored["access_token"], stored["refresh_token"]}
    tokens |= {rotated["access_token"], rotated["refresh_token"]}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not [t for t in tokens if t in logged]


def test_revoked_grant_fails_the_reply_and_marks_the_account_needs_reauth(
    db: Database, x_world: XWorld
) -> None:
    issued = x_world.issue()
    account_id = _account(db, issued, x_world.brand_id)
    message_id = _reply(db, account_id, x_world, "jane_doe", "Could you DM us?")
    # The brand's X user removed our app: access and refresh tokens are gone.
    x_world.emulator.post("/_emulator/tokens/revoke", json={"user_id": x_world.brand_id})

    assert _deliver(db, x_world) == 1

    message = _message(db, message_id)
    assert message.delivery_state == "failed"
    reason = "X refused the token refresh: Value passed for the token was invalid."
    assert message.delivery_error == reason
    account, stored = _channel(db, account_id)
    assert account.status == "needs_reauth" and account.status_reason == reason
    assert stored["refresh_token"] == issued["refresh_token"]
    assert [r["outcome"] for r in x_world.refreshes()] == ["invalid_token"]
    assert x_world.posts() == []


def test_two_registries_sharing_the_database_refresh_once_between_them(
    db: Database, x_world: XWorld
) -> None:
    """Two processes (two registries) take turns: whichever refreshes first stores the
    pair, and the other starts from it instead of spending the rotated refresh token."""
    account_id = _account(db, x_world.issue(), x_world.brand_id)

    async def take_turns() -> None:
        one, two = _registry(db, x_world), _registry(db, x_world)
        try:
            for worker, customer in [(one, "ann"), (two, "bob")]:
                _reply(db, account_id, x_world, customer, f"Hello {customer}!")
                assert await DeliveryWorker(db, worker).run_once() == 1
            assert len(x_world.refreshes()) == 1
            x_world.expire_by_clock()
            for worker, customer in [(two, "cem"), (one, "dan")]:
                _reply(db, account_id, x_world, customer, f"Hello {customer}!")
                assert await DeliveryWorker(db, worker).run_once() == 1
        finally:
            await one.aclose()
            await two.aclose()

    x_world.expire_by_clock()
    asyncio.run(take_turns())

    assert [r["outcome"] for r in x_world.refreshes()] == ["refreshed", "refreshed"]
    assert len(x_world.posts()) == 4
    with db.session() as s:
        states = s.scalars(select(Message.delivery_state).where(Message.direction == "outbound"))
        assert list(states) == ["sent"] * 4
    assert _channel(db, account_id)[0].status == "active"


def test_a_process_that_read_the_account_before_another_refreshed_uses_the_stored_pair(
    db: Database, x_world: XWorld
) -> None:
    """Both processes read the account while its token was still the expired one; the
    first refreshes and stores the new pair, and the second, refused with 401, finds
    that pair in the database instead of spending the rotated refresh token (which X
    would refuse, marking the account for re-authorization for nothing)."""
    account_id = _account(db, x_world.issue(), x_world.brand_id)
    x_world.expire_by_clock()
    with db.session() as s:
        read_before = account_ref(s.get_one(ChannelAccount, account_id))
    tweets = [x_world.customer_tweet(f"help {n}", f"cust{n}") for n in (1, 2)]

    async def one_after_the_other() -> None:
        one, two = _registry(db, x_world), _registry(db, x_world)
        try:
            for registry, tweet in zip((one, two), tweets, strict=True):
                connector = registry.for_account(read_before)
                assert connector is not None
                await connector.send(
                    read_before,
                    OutboundRequest(
                        kind=ReplyKind.PUBLIC_REPLY,
                        body=f"On it, {tweet['user']['screen_name']}!",
                        idempotency_key=f"reply-{tweet['id_str']}",
                        in_reply_to_id=tweet["id_str"],
                    ),
                )
        finally:
            await one.aclose()
            await two.aclose()

    asyncio.run(one_after_the_other())

    assert [r["outcome"] for r in x_world.refreshes()] == ["refreshed"]
    assert len(x_world.posts()) == 2
    assert _channel(db, account_id)[0].status == "active"


def test_concurrent_calls_that_see_the_401_refresh_once(db: Database, x_world: XWorld) -> None:
    account_id = _account(db, x_world.issue(), x_world.brand_id)
    tweets = [x_world.customer_tweet("hi", name) for name in ("ann", "bob", "cem")]
    with db.session() as s:
        channel = s.get(ChannelAccount, account_id)
        assert channel is not None
        ref = account_ref(channel)
    x_world.expire_by_clock()

    async def send_all() -> list[str]:
        registry = _registry(db, x_world)
        connector = registry.for_account(ref)
        assert connector is not None
        try:
            results = await asyncio.gather(
                *(
                    connector.send(
                        ref,
                        OutboundRequest(
                            ReplyKind.PUBLIC_REPLY,
                            f"Thanks {tweet['user']['screen_name']}",
                            f"key-{tweet['id_str']}",
                            in_reply_to_id=tweet["id_str"],
                        ),
                    )
                    for tweet in tweets
                )
            )
        finally:
            await registry.aclose()
        return [r.platform_message_id for r in results]

    sent = asyncio.run(send_all())

    assert len(set(sent)) == 3 and len(x_world.posts()) == 3
    assert [r["outcome"] for r in x_world.refreshes()] == ["refreshed"]
    assert _channel(db, account_id)[1]["access_token"] != ref.secrets["access_token"]


def test_polling_refreshes_the_expired_token(db: Database, x_world: XWorld) -> None:
    account_id = _account(db, x_world.issue(), x_world.brand_id, settings={"poll": True})
    x_world.customer_tweet("anyone there?", "jane_doe")
    x_world.expire_by_clock()

    async def poll() -> Any:
        registry = _registry(db, x_world)
        try:
            return await poll_account(db, Pipeline(), registry, account_id)
        finally:
            await registry.aclose()

    outcome = asyncio.run(poll())

    assert outcome.error is None and outcome.stored == 1, outcome
    assert [r["outcome"] for r in x_world.refreshes()] == ["refreshed"]
    assert _channel(db, account_id)[0].status == "active"
