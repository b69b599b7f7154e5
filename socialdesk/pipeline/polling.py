"""Polled channels (Mastodon, Bluesky, e-mail, X mentions as a fallback).

Each poll stores what it fetched as raw events first, then sends the messages through
the pipeline and advances the account's cursor in the same transaction, so a crash
re-reads the same page (which the pipeline deduplicates) instead of skipping it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from socialdesk.background import AsyncBackgroundWorker
from socialdesk.channels.accounts import account_ref
from socialdesk.channels.base import SendError, SendFailure
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.domain.enums import AccountStatus, Platform
from socialdesk.domain.messages import InboundMessage
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.raw_events import (
    RawDelivery,
    mark_failed,
    mark_processed,
    store_raw_events,
)
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import ChannelAccount

log = logging.getLogger(__name__)

ALWAYS_POLLED = frozenset({Platform.MASTODON, Platform.BLUESKY, Platform.EMAIL})
DEFAULT_INTERVAL = timedelta(seconds=60)


@dataclass(slots=True)
class PollOutcome:
    account_id: int
    fetched: int = 0
    stored: int = 0
    error: str | None = None


def is_polled(account: ChannelAccount) -> bool:
    return account.platform in ALWAYS_POLLED or bool(account.settings.get("poll"))


def _raw_body(message: InboundMessage) -> str:
    data: dict[str, Any] = asdict(message)
    data["created_at"] = message.created_at.isoformat()
    return json.dumps(data, ensure_ascii=False, default=str)


async def poll_account(
    db: Database, pipeline: Pipeline, registry: ConnectorRegistry, account_id: int
) -> PollOutcome:
    outcome = PollOutcome(account_id)
    with db.session() as s:
        account = s.get(ChannelAccount, account_id)
        if account is None or account.status != AccountStatus.ACTIVE:
            outcome.error = "account is not active"
            return outcome
        ref = account_ref(account)
        cursor = account.poll_cursor
    connector = registry.for_account(ref)
    if connector is None:
        outcome.error = f"no connector for {ref.platform}"
        return outcome
    try:
        result = await connector.poll(ref, cursor)
    except SendError as error:
        outcome.error = error.reason
        with db.write() as s:
            values: dict[str, Any] = {"last_polled_at": utcnow()}
            if error.failure is SendFailure.AUTH_REVOKED:
                values |= {"status": str(AccountStatus.NEEDS_REAUTH), "status_reason": error.reason}
            if error.failure is SendFailure.RATE_LIMITED and error.retry_at:
                values["rate_limit"] = {"remaining": 0, "reset_at": error.retry_at.isoformat()}
            s.execute(
                update(ChannelAccount).where(ChannelAccount.id == account_id).values(**values)
            )
        return outcome
    outcome.fetched = len(result.messages)
    raw_ids: list[int] = []
    if result.messages:
        with db.write() as s:
            raw_ids = store_raw_events(
                s.connection(),
                [
                    RawDelivery(f"poll:{ref.platform}", _raw_body(m), {}, account_id)
                    for m in result.messages
                ],
            )
    messages = [replace(m, raw_event_id=r) for m, r in zip(result.messages, raw_ids, strict=True)]
    try:
        with db.write() as s:
            conn = s.connection()
            ingested = pipeline.ingest(conn, messages)
            mark_processed(conn, raw_ids)
            values = {"poll_cursor": result.cursor, "last_polled_at": utcnow()}
            if ingested.stored:
                values["last_received_at"] = utcnow()
            conn.execute(
                update(ChannelAccount).where(ChannelAccount.id == account_id).values(**values)
            )
        outcome.stored = ingested.stored
    except Exception as exc:  # kept on the raw events; the cursor stays, so the page is re-read
        log.exception("ingesting a poll of account %s failed", account_id)
        outcome.error = f"{type(exc).__name__}: {exc}"
        with db.write() as s:
            for raw_id in raw_ids:
                mark_failed(s.connection(), raw_id, outcome.error)
    return outcome


class PollScheduler(AsyncBackgroundWorker):
    """Polls every polled account at its interval (``settings.poll_interval_seconds``)."""

    name = "poller"

    def __init__(self, db: Database, pipeline: Pipeline, registry: ConnectorRegistry) -> None:
        super().__init__()
        self.db = db
        self.pipeline = pipeline
        self.registry = registry

    def due_accounts(self) -> list[int]:
        now = utcnow()
        with self.db.session() as s:
            accounts = s.scalars(
                select(ChannelAccount).where(ChannelAccount.status == str(AccountStatus.ACTIVE))
            )
            due = []
            for account in accounts:
                if not is_polled(account):
                    continue
                interval = timedelta(
                    seconds=float(account.settings.get("poll_interval_seconds", 60))
                )
                if account.last_polled_at is None or now - account.last_polled_at >= interval:
                    due.append(account.id)
            return due

    async def run_once(self) -> list[PollOutcome]:
        return [
            await poll_account(self.db, self.pipeline, self.registry, a)
            for a in self.due_accounts()
        ]

    def start(self) -> None:
        super().start()
        self.kick()  # accounts overdue since before a restart

    async def run_pass(self) -> bool:
        await self.run_once()
        return False  # each account waits for its own interval

    async def close(self) -> None:
        await self.registry.aclose()
