"""A reply with images is posted once even when the send is retried: the images are
uploaded as part of the send (again on a retry: the network discards an unused copy),
while the post itself is guarded by the network's own key (Mastodon's Idempotency-Key,
Bluesky's derived rkey)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update

from socialdesk.actions.inbox import send_reply
from socialdesk.actions.uploads import store_upload
from socialdesk.channels.bluesky.emulator import create_bluesky_app
from socialdesk.channels.mastodon.emulator import create_mastodon_app
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.config import Settings
from socialdesk.delivery.worker import Claim, DeliveryWorker
from socialdesk.emulators.server import serve_app
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.polling import poll_account
from socialdesk.store.db import Database
from socialdesk.store.file_storage import FolderStorage
from socialdesk.store.models import Message, OutboxEntry, Ticket, User
from tests.delivery.reply_images import tiny_png
from tests.delivery.test_bluesky_exactly_once import Brand
from tests.delivery.test_mastodon_round_trip import _connect_brand


async def _lose_the_answer(_claim: Claim, _result: Any) -> None:
    raise ConnectionError("connection reset before the answer was read")


def _reply_with_image(db: Database, storage: FolderStorage, body: str) -> int:
    with db.write() as s:
        ticket = s.scalar(select(Ticket).order_by(Ticket.id.desc()))
        agent = s.scalar(select(User))
        assert ticket is not None and agent is not None
        upload = store_upload(
            s, storage, agent, ticket.workspace_id, tiny_png(), "p.png", max_bytes=100_000
        )
        outcome = send_reply(s, ticket, agent, body, attachment_ids=[upload.id], confirm=True)
        assert outcome.message is not None
        return outcome.message.id


def _queue_again(db: Database) -> None:
    with db.write() as s:
        s.execute(
            update(OutboxEntry).values(state="queued", next_attempt_at=OutboxEntry.created_at)
        )


def test_mastodon_retry_after_a_lost_answer_posts_the_status_once(
    db: Database, tmp_path: Path
) -> None:
    storage = FolderStorage(tmp_path)
    with serve_app(create_mastodon_app()) as url, httpx.Client(base_url=url) as instance:
        account_id = _connect_brand(db, instance)

        async def scenario() -> int:
            registry = ConnectorRegistry(Settings())
            await poll_account(db, Pipeline(), registry, account_id)
            instance.post("/_emulator/customer/mention", json={"username": "ana", "text": "hi"})
            await poll_account(db, Pipeline(), registry, account_id)
            message_id = _reply_with_image(db, storage, "This one.")
            worker = DeliveryWorker(db, registry, storage=storage, after_send=_lose_the_answer)
            await worker.run_once()
            _queue_again(db)
            await DeliveryWorker(db, registry, storage=storage).run_once()
            await registry.aclose()
            return message_id

        message_id = asyncio.run(scenario())

        sent = instance.get("/_emulator/sent").json()
        statuses = [s for s in sent if s["endpoint"] == "POST /api/v1/statuses"]
        media = [s for s in sent if s["endpoint"] == "POST /api/v2/media"]
        # The retry uploaded the image again; its status POST carried the same key and
        # got the first status back (the emulator records only statuses it created).
        assert (len(media), len(statuses)) == (2, 1)
        ids = {s["status"]["id"] for s in statuses}
        with db.session() as s:
            message = s.get(Message, message_id)
            assert message is not None and message.delivery_state == "sent"
            assert message.platform_message_id in ids
        assert len(statuses[0]["status"]["media_attachments"]) == 1


def test_bluesky_retry_after_a_lost_answer_posts_once(db: Database, tmp_path: Path) -> None:
    storage = FolderStorage(tmp_path)
    app = create_bluesky_app()
    with serve_app(app) as pds_url:
        from socialdesk.actions.admin import (
            create_channel_account,
            create_user,
            ensure_workspace,
        )
        from socialdesk.domain.enums import Platform, Role
        from tests.delivery.test_bluesky_exactly_once import PASSWORD

        emulator = app.state.emulator
        with db.write() as s:
            workspace = ensure_workspace(s)
            create_user(s, "agent@example.com", PASSWORD, Role.AGENT, workspace=workspace)
            account_id = create_channel_account(
                s, None, workspace_id=workspace.id, platform=Platform.BLUESKY,
                handle=emulator.brand_handle, external_id=emulator.brand_did,
                secrets={"app_password": emulator.app_password},
                settings={"base_url": pds_url, "direct_messages": False},
            ).id  # fmt: skip
        brand = Brand(db, emulator, account_id)
        brand.customer_mentions("which port?")
        message_id = _reply_with_image(db, storage, "The left one.")

        async def deliver() -> None:
            registry = ConnectorRegistry(Settings())
            worker = DeliveryWorker(db, registry, storage=storage, after_send=_lose_the_answer)
            await worker.run_once()
            _queue_again(db)
            await DeliveryWorker(db, registry, storage=storage).run_once()
            await registry.aclose()

        asyncio.run(deliver())

        [post] = brand.posts()
        assert post["body"]["record"]["embed"]["$type"] == "app.bsky.embed.images"
        assert len(brand.brand_posts()) == 1
        with db.session() as s:
            message = s.get(Message, message_id)
            assert message is not None and message.delivery_state == "sent"
            assert message.platform_message_id == post["uri"]
