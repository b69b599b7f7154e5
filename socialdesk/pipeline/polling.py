"""Polled channels (Mastodon, Bluesky, e-mail, X mentions as a fallback).

Each poll stores what it fetched as raw events and advances the account's cursor in one
transaction, then turns those raw events into messages the way the raw-event worker
does (``process_raw_events``: one transaction per batch, one per post when a batch
fails, transient failures retried with backoff). A crash in between leaves them
pending for the raw-event worker, which reads them back with ``parse_polled``; a post
that cannot be ingested is listed as failed with its reason and never holds up the
account's later posts.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from socialdesk.background import AsyncBackgroundWorker
from socialdesk.channels.accounts import account_ref
from socialdesk.channels.base import ParsedEvent, PayloadError, SendError, SendFailure
from socialdesk.channels.descriptor import PollSpec
from socialdesk.channels.networks import all_networks
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.domain.attachments import from_row
from socialdesk.domain.enums import AccountStatus, Direction, Platform, Visibility
from socialdesk.domain.messages import Author, InboundMessage, MessageChange
from socialdesk.domain.timestamps import from_iso
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.raw_events import RawDelivery, store_raw_events
from socialdesk.pipeline.webhook_processing import Parser, process_raw_events
from socialdesk.store.db import Database, utcnow
from socialdesk.store.leases import single_runner
from socialdesk.store.models import ChannelAccount

log = logging.getLogger(__name__)

# Networks whose every account is polled; others only when settings say "poll".
ALWAYS_POLLED = frozenset(
    d.platform for d in all_networks() if isinstance(d.poller, PollSpec) and d.poller.always
)
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
    # Stored first, with the cursor: from here the page is owed to the raw events, not
    # to the network, so a failure below is retried from them (never by re-reading).
    with db.write() as s:
        conn = s.connection()
        raw_ids = store_raw_events(
            conn,
            [
                RawDelivery(poll_source(ref.platform), _raw_body(m), {}, account_id)
                for m in result.messages
            ],
        )
        conn.execute(
            update(ChannelAccount)
            .where(ChannelAccount.id == account_id)
            .values(poll_cursor=result.cursor, last_polled_at=utcnow())
        )
    if raw_ids:
        done = process_raw_events(db, pipeline, POLL_PARSERS, raw_ids)
        outcome.stored = done.messages
        if done.failed or done.deferred:
            outcome.error = (
                f"{done.failed} failed (listed with their reasons), "
                f"{done.deferred} to be retried after a transient error"
            )
    return outcome


def poll_source(platform: Platform | str) -> str:
    """The raw-event source of a polled post (``poll:mastodon``)."""
    return f"poll:{platform}"


def parse_polled(
    raw_body: bytes, resolve_account: object = None, received_at: datetime | None = None
) -> ParsedEvent:
    """A polled post's raw event (the message as the connector read it, ``_raw_body``)
    back into the message, for the raw-event worker (a retry, or after a crash)."""
    try:
        data = json.loads(raw_body)
        author = data["author"]
        message = InboundMessage(
            channel_account_id=int(data["channel_account_id"]),
            platform=Platform(data["platform"]),
            platform_message_id=str(data["platform_message_id"]),
            author=Author(**author),
            body=str(data["body"]),
            created_at=from_iso(data["created_at"]),
            direction=Direction(data.get("direction") or Direction.INBOUND),
            visibility=Visibility(data.get("visibility") or Visibility.PUBLIC),
            reply_to_id=data.get("reply_to_id"),
            references=tuple(data.get("references") or ()),
            conversation_id=data.get("conversation_id"),
            subject=data.get("subject"),
            extra=dict(data.get("extra") or {}),
            attachments=tuple(from_row(a) for a in data.get("attachments") or ()),
            change=MessageChange(data["change"]) if data.get("change") else None,
            changed_at=from_iso(data["changed_at"]) if data.get("changed_at") else None,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise PayloadError(f"not a polled message: {type(exc).__name__}: {exc}") from None
    return ParsedEvent(messages=[message])


POLL_PARSERS: dict[str, Parser] = {poll_source(p): parse_polled for p in Platform}


class PollScheduler(AsyncBackgroundWorker):
    """Polls every polled account at its interval (``settings.poll_interval_seconds``),
    each account by one process at a time (``single_runner``)."""

    name = "poller"

    def __init__(self, db: Database, pipeline: Pipeline, registry: ConnectorRegistry) -> None:
        super().__init__()
        self.db = db
        self.pipeline = pipeline
        self.registry = registry

    def due_accounts(self, only: int | None = None) -> list[int]:
        now = utcnow()
        with self.db.session() as s:
            query = select(ChannelAccount).where(ChannelAccount.status == str(AccountStatus.ACTIVE))
            if only is not None:
                query = query.where(ChannelAccount.id == only)
            accounts = s.scalars(query)
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
        outcomes = []
        for account_id in self.due_accounts():
            # One poller per account across processes; the holder commits the cursor
            # before letting go, so the next one re-checks and finds it not due.
            with single_runner(self.db, f"poll-{account_id}") as mine:
                if mine and account_id in self.due_accounts(only=account_id):
                    outcomes.append(
                        await poll_account(self.db, self.pipeline, self.registry, account_id)
                    )
        return outcomes

    def start(self) -> None:
        super().start()
        self.kick()  # accounts overdue since before a restart

    async def run_pass(self) -> bool:
        await self.run_once()
        return False  # each account waits for its own interval

    async def close(self) -> None:
        await self.registry.aclose()
