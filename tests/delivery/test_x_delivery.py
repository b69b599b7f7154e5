"""Replies reach the X emulator exactly once, whatever fails on the way."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from socialdesk.actions import tickets as ticket_actions
from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.config import Settings
from socialdesk.delivery.worker import Claim, DeliveryPolicy, DeliveryWorker
from socialdesk.domain.enums import Platform, Role
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import ChannelAccount, Message, OutboxEntry, Ticket, User
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from tests.pipeline.helpers import ingest, post

SECRET = "emulated_consumer_secret"


@dataclass
class XWorld:
    emulator: httpx.Client
    brand_id: str
    token: str

    def customer_tweet(self, text: str, username: str = "jane_doe") -> dict[str, Any]:
        r = self.emulator.post(
            "/_emulator/customer/mention", json={"customer": {"username": username}, "text": text}
        )
        assert r.status_code == 200, r.text
        return dict(r.json()["tweet"])

    def posts(self) -> list[dict[str, Any]]:
        return [
            s
            for s in self.emulator.get("/_emulator/sent").json()
            if s.get("endpoint", "").startswith("POST /2/tweets")
        ]


@pytest.fixture
def x_world() -> Iterator[XWorld]:
    with (
        serve_app(create_x_emulator(SECRET, retry_delay_seconds=0.05)) as url,
        httpx.Client(base_url=url) as client,
    ):
        brand = client.post(
            "/_emulator/users", json={"username": "AcmeSupport", "name": "Acme"}
        ).json()
        token = client.post("/_emulator/tokens", json={"user_id": brand["id"]}).json()[
            "access_token"
        ]
        yield XWorld(client, brand["id"], token)


def _settings(x_world: XWorld) -> Settings:
    return Settings(
        x_consumer_secret=SECRET, x_api_base_url=str(x_world.emulator.base_url).rstrip("/")
    )


def _account(db: Database, x_world: XWorld) -> int:
    with db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, "agent@example.com", "correct horse battery", Role.AGENT, workspace=ws)
        return create_channel_account(
            s,
            None,
            workspace_id=ws.id,
            platform=Platform.X,
            handle="AcmeSupport",
            external_id=x_world.brand_id,
            secrets={"access_token": x_world.token},
        ).id


def _ticket_with_reply(db: Database, account_id: int, tweet: dict[str, Any], body: str) -> int:
    ingest(db, post(account_id, tweet["id_str"], tweet["text"], author=tweet["user"]["id_str"]))
    with db.write() as s:
        ticket = s.scalar(select(Ticket))
        agent = s.scalar(select(User))
        assert ticket is not None and agent is not None
        return ticket_actions.reply(s, ticket, agent, body).id


def _message(db: Database, message_id: int) -> Message:
    with db.session() as s:
        message = s.get(Message, message_id)
        assert message is not None
        return message


def test_customer_to_ticket_to_reply_over_http(db: Database, x_world: XWorld) -> None:
    """The whole loop: emulator → signed webhook → ticket in the API → reply → emulator."""
    settings = _settings(x_world)
    with (
        serve(create_app(settings, db)) as base,
        httpx.Client(base_url=base + "/api/v1", timeout=30) as api,
    ):
        with db.write() as s:
            create_user(
                s,
                "agent@example.com",
                "correct horse battery",
                Role.ADMIN,
                workspace=ensure_workspace(s),
            )
        token = api.post(
            "/auth/token", json={"email": "agent@example.com", "password": "correct horse battery"}
        )
        api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        created = api.post(
            "/channel-accounts",
            json={
                "platform": "x",
                "handle": "AcmeSupport",
                "external_id": x_world.brand_id,
                "secrets": {"access_token": x_world.token},
            },
        )
        assert created.status_code == 201
        x_world.emulator.put("/_emulator/webhook", json={"url": base + "/hooks/x"})
        tweet = x_world.customer_tweet("my order 1234 never arrived")

        deadline = time.monotonic() + 10
        tickets: list[dict[str, Any]] = []
        while not tickets and time.monotonic() < deadline:
            tickets = api.get("/tickets", params={"channel": "x"}).json()["data"]
            time.sleep(0.05)
        assert len(tickets) == 1 and "never arrived" in tickets[0]["subject"]

        reply = api.post(
            f"/tickets/{tickets[0]['id']}/replies",
            json={"body": "Sorry! Could you DM us the order number?"},
        )
        assert reply.status_code == 201
        state = ""
        while state != "sent" and time.monotonic() < deadline + 10:
            messages = api.get(f"/tickets/{tickets[0]['id']}").json()["messages"]
            state = messages[-1]["delivery_state"]
            time.sleep(0.05)
        assert state == "sent"
        posts = x_world.posts()
        assert len(posts) == 1
        assert posts[0]["body"]["reply"]["in_reply_to_tweet_id"] == tweet["id_str"]
        assert posts[0]["body"]["text"] == "Sorry! Could you DM us the order number?"
        assert messages[-1]["platform_message_id"] == posts[0]["id"]
        # X echoes our own tweet to the webhook; it must not become a second message.
        time.sleep(0.5)
        detail = api.get(f"/tickets/{tickets[0]['id']}").json()
        assert [m["direction"] for m in detail["messages"]] == ["inbound", "outbound"]


def _worker(db: Database, x_world: XWorld, **kwargs: Any) -> DeliveryWorker:
    return DeliveryWorker(db, ConnectorRegistry(_settings(x_world)), **kwargs)


def test_worker_killed_between_send_and_commit_posts_once(db: Database, x_world: XWorld) -> None:
    account = _account(db, x_world)
    message_id = _ticket_with_reply(
        db, account, x_world.customer_tweet("app crashes"), "Which version are you on?"
    )

    async def crash(_claim: Claim, _result: Any) -> None:
        raise KeyboardInterrupt  # the process dies after X accepted the tweet

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(_worker(db, x_world, after_send=crash).run_once())
    assert _message(db, message_id).delivery_state == "sending"
    assert len(x_world.posts()) == 1

    # Minutes later a new worker takes over the abandoned claim and finds the tweet
    # instead of posting it again.
    restarted = _worker(db, x_world, clock=lambda: utcnow() + timedelta(minutes=5))
    assert asyncio.run(restarted.run_once()) == 1
    message = _message(db, message_id)
    assert message.delivery_state == "sent"
    assert message.platform_message_id == x_world.posts()[0]["id"]
    assert len(x_world.posts()) == 1


def test_duplicate_403_is_resolved_by_lookup_not_retry(db: Database, x_world: XWorld) -> None:
    account = _account(db, x_world)
    message_id = _ticket_with_reply(
        db, account, x_world.customer_tweet("refund?"), "Refund is on its way."
    )

    async def lose_response(_claim: Claim, _result: Any) -> None:
        raise ConnectionError("response lost")

    first = _worker(
        db, x_world, after_send=lose_response, policy=DeliveryPolicy(claim_for=timedelta(0))
    )
    asyncio.run(first.run_once())
    with db.write() as s:  # as if the row had been queued afresh, with no attempt counted
        entry = s.scalar(select(OutboxEntry))
        assert entry is not None
        entry.state, entry.next_attempt_at, entry.attempts = "queued", entry.created_at, 0
    asyncio.run(_worker(db, x_world).run_once())
    posts = x_world.posts()
    assert len(posts) == 1  # the second attempt got X's duplicate-content 403
    message = _message(db, message_id)
    assert message.delivery_state == "sent"
    assert message.platform_message_id == posts[0]["id"]
    with db.session() as s:
        entry = s.scalar(select(OutboxEntry))
        assert entry is not None and entry.last_error == "the network already had this post"


def test_a_retry_after_a_lost_answer_looks_the_post_up_first(db: Database, x_world: XWorld) -> None:
    account = _account(db, x_world)
    message_id = _ticket_with_reply(
        db, account, x_world.customer_tweet("where is my parcel?"), "It left the depot today."
    )

    async def lose_response(_claim: Claim, _result: Any) -> None:
        raise ConnectionError("response lost")

    asyncio.run(_worker(db, x_world, after_send=lose_response).run_once())
    with db.write() as s:  # the attempt is counted and the row queued for its retry
        entry = s.scalar(select(OutboxEntry))
        assert entry is not None and entry.attempts == 1
        entry.state, entry.next_attempt_at = "queued", entry.created_at
    asyncio.run(_worker(db, x_world).run_once())

    posts = x_world.posts()
    assert len(posts) == 1
    message = _message(db, message_id)
    assert (message.delivery_state, message.platform_message_id) == ("sent", posts[0]["id"])
    with db.session() as s:
        entry = s.scalar(select(OutboxEntry))
        # Found by the lookup, not by running into X's duplicate-content 403.
        assert entry is not None and entry.last_error is None


def test_expired_token_marks_account_for_reauthorization(db: Database, x_world: XWorld) -> None:
    account = _account(db, x_world)
    message_id = _ticket_with_reply(db, account, x_world.customer_tweet("hello?"), "Hi!")
    x_world.emulator.post("/_emulator/tokens/expire", json={"access_token": x_world.token})
    asyncio.run(_worker(db, x_world).run_once())
    message = _message(db, message_id)
    assert message.delivery_state == "failed"
    assert message.delivery_error
    with db.session() as s:
        channel = s.get(ChannelAccount, account)
        assert channel is not None and channel.status == "needs_reauth"
    assert x_world.posts() == []


def test_rate_limited_reply_waits_for_reset(db: Database, x_world: XWorld) -> None:
    account = _account(db, x_world)
    x_world.emulator.put("/_emulator/config", json={"rate_limits": {"POST /2/tweets": 0}})
    message_id = _ticket_with_reply(db, account, x_world.customer_tweet("anyone?"), "Yes, here!")
    asyncio.run(_worker(db, x_world).run_once())
    message = _message(db, message_id)
    assert message.delivery_state == "queued"
    assert message.delivery_error and "rate limited" in message.delivery_error
    with db.session() as s:
        entry = s.scalar(select(OutboxEntry))
        assert entry is not None and entry.next_attempt_at > entry.created_at
        channel = s.get(ChannelAccount, account)
        assert channel is not None and channel.rate_limit["remaining"] == 0
        assert channel.rate_limit["reset_at"] == entry.next_attempt_at.isoformat()
    assert x_world.posts() == []


def test_reordered_and_duplicated_webhooks_thread_once(db: Database, x_world: XWorld) -> None:
    """X redelivers and reorders: a follow-up arriving before its parent, each twice,
    still gives one ticket with two messages, in the right order."""
    with serve(create_app(_settings(x_world), db)) as base:
        _account(db, x_world)
        x_world.emulator.put(
            "/_emulator/webhook",
            json={"url": base + "/hooks/x", "hold": True, "duplicate_deliveries": 1},
        )
        first = x_world.customer_tweet("my card was charged twice")
        follow_up = x_world.emulator.post(
            "/_emulator/customer/mention",
            json={
                "customer": {"username": "jane_doe"},
                "text": "order 5521, still no refund",
                "in_reply_to_tweet_id": first["id_str"],
            },
        ).json()["tweet"]
        x_world.emulator.post("/_emulator/webhook/flush", json={"order": "reverse"})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with db.session() as s:
                if (s.scalar(select(func.count()).select_from(Message)) or 0) >= 2:
                    break
            time.sleep(0.05)
        time.sleep(0.5)  # let the duplicate copies arrive too
        with db.session() as s:
            messages = s.scalars(select(Message).order_by(Message.created_at, Message.id)).all()
            assert [m.platform_message_id for m in messages] == [
                first["id_str"],
                follow_up["id_str"],
            ]
            assert len({m.ticket_id for m in messages}) == 1
            assert s.scalar(select(func.count()).select_from(Ticket)) == 1


def test_long_answer_goes_out_as_a_numbered_chain(db: Database, x_world: XWorld) -> None:
    account = _account(db, x_world)
    tweet = x_world.customer_tweet("how do I move my data to the new phone?")
    steps = " ".join(
        f"Step {n}: open Settings, tap Backup, then choose the account to copy."
        for n in range(1, 8)
    )
    message_id = _ticket_with_reply(db, account, tweet, steps)
    asyncio.run(_worker(db, x_world).run_once())
    posts = x_world.posts()
    assert len(posts) >= 2
    parents = [p["body"]["reply"]["in_reply_to_tweet_id"] for p in posts]
    assert parents == [
        tweet["id_str"],
        *[p["id"] for p in posts[:-1]],
    ]  # each part answers the last
    assert posts[0]["body"]["text"].endswith(f"1/{len(posts)}")
    message = _message(db, message_id)
    assert message.delivery_state == "sent"
    assert message.platform_message_id == posts[0]["id"]
    assert message.meta["thread_ids"] == [p["id"] for p in posts]
