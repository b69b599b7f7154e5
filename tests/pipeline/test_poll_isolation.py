"""Polled posts take the raw-event path: one post the pipeline cannot take fails alone,
the account's cursor still moves on (its later posts are not held up), and the failed
post is retried from its stored raw event."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.actions.raw_events import retry_raw_events
from socialdesk.channels.mastodon.emulator import create_mastodon_app
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, RawEventStatus
from socialdesk.emulators.server import serve_app
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.polling import POLL_PARSERS, parse_polled, poll_account
from socialdesk.pipeline.webhook_processing import process_pending
from socialdesk.store.db import Database
from socialdesk.store.models import Message, RawEvent
from tests.pipeline.test_raw_event_isolation import PoisonStep


@pytest.fixture
def instance() -> Iterator[httpx.Client]:
    with serve_app(create_mastodon_app()) as url, httpx.Client(base_url=url) as client:
        yield client


def connect(db: Database, instance: httpx.Client) -> int:
    brand_id = instance.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": "Bearer brand-token"}
    ).json()["id"]
    with db.write() as s:
        ws = ensure_workspace(s)
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


def mention(instance: httpx.Client, text: str) -> None:
    r = instance.post("/_emulator/customer/mention", json={"username": "ana", "text": text})
    assert r.status_code in (200, 201), r.text


def test_a_poison_post_in_a_poll_fails_alone_and_is_retried(
    db: Database, instance: httpx.Client
) -> None:
    asyncio.run(_poison_poll(db, instance))


async def _poison_poll(db: Database, instance: httpx.Client) -> None:
    account_id = connect(db, instance)
    registry = ConnectorRegistry(Settings())
    poisoned = Pipeline(steps=[PoisonStep()])
    assert (await poll_account(db, poisoned, registry, account_id)).error is None
    for text in ("where is my parcel", "POISON post", "still waiting"):
        mention(instance, text)

    outcome = await poll_account(db, poisoned, registry, account_id)
    assert (outcome.fetched, outcome.stored) == (3, 2)
    assert outcome.error is not None and outcome.error.startswith("1 failed")
    with db.session() as s:
        [failed] = s.scalars(select(RawEvent).where(RawEvent.status == "failed")).all()
        assert failed.source == "poll:mastodon" and "cannot triage" in (failed.error or "")
    # The cursor moved on: the next poll reads only what is new.
    mention(instance, "one more thing")
    later = await poll_account(db, poisoned, registry, account_id)
    assert (later.fetched, later.stored, later.error) == (1, 1, None)
    await registry.aclose()

    # The failed post comes back from its raw event, once the pipeline takes it.
    with db.write() as s:
        assert retry_raw_events(s, None, None) == [failed.id]
    done = process_pending(db, Pipeline(), POLL_PARSERS)
    assert (done.events, done.messages, done.failed) == (1, 1, 0)
    with db.session() as s:
        assert s.get_one(RawEvent, failed.id).status == RawEventStatus.PROCESSED
        bodies = sorted(s.scalars(select(Message.body)))
    assert len(bodies) == 4 and any("POISON" in b for b in bodies)


def test_parse_polled_refuses_what_is_not_a_polled_message() -> None:
    from socialdesk.channels.base import PayloadError

    for body in (b"{", b"[]", b'{"platform": "mastodon"}', b'{"created_at": 1}'):
        with pytest.raises(PayloadError):
            parse_polled(body)
