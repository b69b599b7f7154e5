"""Mastodon end to end: a customer's mention is polled into a ticket, the agent's reply
is delivered under it with an Idempotency-Key, and polling again adds nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from socialdesk.actions import tickets as ticket_actions
from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.channels.mastodon.emulator import create_mastodon_app
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.config import Settings
from socialdesk.delivery.worker import DeliveryWorker
from socialdesk.domain.enums import Platform, Role
from socialdesk.emulators.server import serve_app
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.polling import PollScheduler, poll_account
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, Message, Ticket, User


@pytest.fixture
def instance() -> Iterator[httpx.Client]:
    with serve_app(create_mastodon_app()) as url, httpx.Client(base_url=url) as client:
        yield client


def _connect_brand(db: Database, instance: httpx.Client) -> int:
    """The emulator's brand account with an agent to answer for it; its account id."""
    brand_id = instance.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": "Bearer brand-token"}
    ).json()["id"]
    with db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, "agent@example.com", "correct horse battery", Role.AGENT, workspace=ws)
        return create_channel_account(
            s,
            None,
            workspace_id=ws.id,
            platform=Platform.MASTODON,
            handle="acmehelp@mastodon.test",
            external_id=str(brand_id),
            secrets={"access_token": "brand-token"},
            settings={"base_url": str(instance.base_url).rstrip("/")},
        ).id


def test_mention_poll_reply_round_trip(db: Database, instance: httpx.Client) -> None:
    asyncio.run(_round_trip(db, instance))


async def _round_trip(db: Database, instance: httpx.Client) -> None:
    account_id = _connect_brand(db, instance)
    registry = ConnectorRegistry(Settings())
    pipeline = Pipeline()
    scheduler = PollScheduler(db, pipeline, registry)
    assert scheduler.due_accounts() == [account_id]
    assert (await poll_account(db, pipeline, registry, account_id)).error is None  # sets the cursor

    mention = instance.post(
        "/_emulator/customer/mention",
        json={"username": "ana", "text": "my parcel says delivered but it is not here"},
    )
    assert mention.status_code in (200, 201), mention.text
    outcome = await poll_account(db, pipeline, registry, account_id)
    assert (outcome.fetched, outcome.stored, outcome.error) == (1, 1, None)
    assert (await poll_account(db, pipeline, registry, account_id)).stored == 0

    with db.write() as s:
        ticket = s.scalar(select(Ticket))
        agent = s.scalar(select(User))
        assert ticket is not None and agent is not None and "delivered" in ticket.subject
        customer_status = s.scalar(select(Message.platform_message_id))
        ticket_actions.reply(s, ticket, agent, "Sorry! We've opened a trace with the courier.")
    await DeliveryWorker(db, registry).run_once()

    sent = instance.get("/_emulator/sent").json()
    statuses = [entry for entry in sent if "statuses" in str(entry.get("endpoint", entry))]
    assert len(statuses) == 1
    assert customer_status is not None and customer_status in str(statuses[0])
    assert "idempotency" in str(statuses[0]).lower()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 2
        reply = s.scalar(select(Message).where(Message.direction == "outbound"))
        assert reply is not None and reply.delivery_state == "sent" and reply.platform_message_id
        account = s.get(ChannelAccount, account_id)
        assert (
            account is not None
            and account.last_polled_at is not None
            and account.last_sent_at is not None
        )
    await registry.aclose()


def test_a_reply_that_fits_only_without_the_mention_is_split_to_fit_with_it(
    db: Database, instance: httpx.Client
) -> None:
    asyncio.run(_long_reply(db, instance))


async def _long_reply(db: Database, instance: httpx.Client) -> None:
    account_id = _connect_brand(db, instance)
    registry = ConnectorRegistry(Settings())
    pipeline = Pipeline()
    await poll_account(db, pipeline, registry, account_id)
    instance.post(
        "/_emulator/customer/mention",
        json={"username": "bob", "domain": "other.social", "text": "my order never came"},
    )
    assert (await poll_account(db, pipeline, registry, account_id)).stored == 1

    # 498 characters: under Mastodon's 500 as typed, over it once "@bob " goes in front
    # (a remote mention counts as its local part).
    sentence = "We are sorry about the delay and have asked the courier to look again. "
    body = (sentence * 8)[:497].rstrip() + "."
    body = body + "x" * (498 - len(body))
    assert len(body) == 498
    with db.write() as s:
        ticket = s.scalar(select(Ticket))
        agent = s.scalar(select(User))
        assert ticket is not None and agent is not None
        ticket_actions.reply(s, ticket, agent, body)
    await DeliveryWorker(db, registry).run_once()

    sent = [
        e
        for e in instance.get("/_emulator/sent").json()
        if e["endpoint"] == "POST /api/v1/statuses" and isinstance(e["status"], dict)
    ]
    texts = [str(e["params"]["status"]) for e in sent]
    assert len(texts) == 2, sent  # a numbered chain of two, not one refused with 422
    assert all(t.startswith("@bob@other.social ") for t in texts)
    assert all(len(t.replace("@bob@other.social", "@bob")) <= 500 for t in texts)
    with db.session() as s:
        reply = s.scalar(select(Message).where(Message.direction == "outbound"))
        assert reply is not None and reply.delivery_state == "sent"
    await registry.aclose()
