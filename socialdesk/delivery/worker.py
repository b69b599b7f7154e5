"""The delivery worker: claims queued replies, sends them, records what happened.

Never posts twice:
- a double click is stopped earlier (the reply action's ``client_key``);
- the outbox row is set to ``sending`` and committed *before* the network call, so a
  crash between the network's success and our commit leaves a ``sending`` row; the
  next claim of that row first looks the post up on the network (``find_recent_post``)
  and only sends again when it is not there;
- so is a retry after an attempt that failed in a way that may have reached the network
  (a timeout, a 5xx): the post may exist although the answer was lost;
- a duplicate-content refusal (X 403) is resolved the same way, never by a blind retry;
- networks with an idempotency key (Mastodon) get the same key on every attempt;
- several worker processes never hold one row at once: the claim is
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite's single writer serialises it), and
  the claim is a lease (``claimed_until``) a heartbeat renews while the worker is on it.
  A worker that dies stops renewing; another takes the row over seconds later, as a
  resumed ``sending`` row (looked up before it is sent again). A row whose lease was
  taken over is not sent by the worker that lost it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from socialdesk.background import AsyncBackgroundWorker
from socialdesk.channels.accounts import account_ref
from socialdesk.channels.base import (
    AccountRef,
    Connector,
    OutboundRequest,
    RateLimitState,
    SendError,
    SendFailure,
    SendResult,
)
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.delivery.compose import (
    build_request,
    check_window,
    reply_parts,
    stored_images,
    thread_parts,
)
from socialdesk.delivery.settle import record_sent
from socialdesk.domain.enums import AccountStatus, DeliveryState, Platform
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.observability import metrics
from socialdesk.observability.logs import bind_log_context
from socialdesk.store.db import Database, utcnow
from socialdesk.store.file_storage import FileStorage, StorageError, storage_from_settings
from socialdesk.store.leases import RowLease
from socialdesk.store.models import ChannelAccount, Contact, Message, OutboxEntry, Ticket
from socialdesk.store.models.base import table_of

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    max_attempts: int = 8
    first_backoff: timedelta = timedelta(seconds=2)
    max_backoff: timedelta = timedelta(hours=1)
    # How long a claimed row belongs to one worker without a heartbeat before another
    # may take it over; renewed every third of it while the worker is on the row.
    claim_for: timedelta = timedelta(seconds=15)

    def backoff(self, attempts: int) -> timedelta:
        return min(self.first_backoff * (2 ** max(0, attempts - 1)), self.max_backoff)


@dataclass(frozen=True, slots=True)
class Claim:
    entry_id: int
    message_id: int
    resumed: bool  # the row was left in "sending" by a worker that died
    # An earlier attempt failed in a way that may still have reached the network (a
    # timeout, a 5xx after the post was made): look before sending again, as on resume.
    retried: bool = False
    # The lease this claim is held under (None: a claim made outside ``run_once``).
    lease: RowLease | None = field(default=None, compare=False, repr=False)

    @property
    def may_be_posted(self) -> bool:
        return self.resumed or self.retried


class DeliveryWorker(AsyncBackgroundWorker):
    name = "delivery"

    def __init__(
        self,
        db: Database,
        registry: ConnectorRegistry,
        policy: DeliveryPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        after_send: Callable[[Claim, SendResult], Awaitable[None]] | None = None,
        storage: FileStorage | None = None,
    ) -> None:
        super().__init__()
        self.db = db
        self.registry = registry
        # Where replies' images are read from (the configured one unless given).
        self._storage = storage
        self.policy = policy or DeliveryPolicy()
        self.clock = clock
        # A test hook that runs between the network's answer and our commit.
        self.after_send = after_send

    @property
    def storage(self) -> FileStorage:
        if self._storage is None:
            self._storage = storage_from_settings(self.registry.settings)
        return self._storage

    # -- one pass ---------------------------------------------------------------------

    def claim(self, limit: int = 20) -> list[Claim]:
        """Claim up to ``limit`` due rows; the caller works on them inside the lease
        (``with claims[0].lease``) for its heartbeats to keep them."""
        now = self.clock()
        until = now + self.policy.claim_for
        with self.db.write() as s:
            entries = s.scalars(
                select(OutboxEntry)
                .where(
                    or_(
                        (OutboxEntry.state == "queued") & (OutboxEntry.next_attempt_at <= now),
                        (OutboxEntry.state == "sending") & (OutboxEntry.claimed_until < now),
                    )
                )
                .order_by(OutboxEntry.id)
                .limit(limit)
                # Another worker's claim in flight is skipped, not waited for and
                # then taken again (a no-op on SQLite, where writers queue).
                .with_for_update(skip_locked=True)
            ).all()
            lease = RowLease(
                self.db,
                table_of(OutboxEntry),
                [e.id for e in entries],
                until,
                self.policy.claim_for,
                self.clock,
            )
            claims = []
            for entry in entries:
                claims.append(
                    Claim(
                        entry.id,
                        entry.message_id,
                        resumed=entry.state == "sending",
                        retried=entry.attempts > 0,
                        lease=lease,
                    )
                )
                entry.state = "sending"
                entry.attempts += 1
                entry.claimed_until = until
                message = s.get(Message, entry.message_id)
                if message is not None:
                    message.delivery_state = str(DeliveryState.SENDING)
            return claims

    async def run_once(self, limit: int = 20) -> int:
        claims = self.claim(limit)
        if not claims or claims[0].lease is None:
            return 0
        with claims[0].lease:
            for claim in claims:
                try:
                    await self.deliver(claim)
                except Exception:  # a bug must not stall the queue; the row is retried later
                    log.exception("delivery of outbox entry %s failed unexpectedly", claim.entry_id)
        return len(claims)

    async def deliver(self, claim: Claim) -> None:
        if claim.lease is not None and not claim.lease.holds(claim.entry_id):
            log.warning("outbox entry %s was taken over by another worker", claim.entry_id)
            return
        with self.db.session() as s:
            entry = s.get(OutboxEntry, claim.entry_id)
            message = s.get(Message, claim.message_id)
            ticket = s.get(Ticket, message.ticket_id) if message else None
            account = (
                s.get(ChannelAccount, entry.channel_account_id)
                if entry and entry.channel_account_id
                else None
            )
            bind_log_context(ticket_id=ticket and ticket.id, account_id=account and account.id)
            if entry is None or message is None or ticket is None:
                return
            if account is None:
                self._fail(claim, "the channel account of this ticket no longer exists")
                return
            if account.status == AccountStatus.NEEDS_REAUTH:
                self._fail(
                    claim, f"{account.platform} account @{account.handle} needs re-authorization"
                )
                return
            ref = account_ref(account)
            # The ticket's network, whose rules the reply was written under (a Page
            # account answers Messenger tickets too).
            network = Platform(ticket.platform)
            request = build_request(s, entry, message, ticket)
            try:
                images = stored_images(s, self.storage, message.id)
            except StorageError as exc:
                images = None
                unreadable = f"the reply's images could not be read from the storage: {exc}"
            contact_email = s.scalar(select(Contact.email).where(Contact.id == ticket.contact_id))
            window = check_window(
                ref.platform,
                request,
                ticket.last_inbound_at,
                self.clock(),
                human_typed=message.author_user_id is not None,
                customer_email=contact_email,
            )
        if images is None:
            self._fail(claim, unreadable)
            return
        if isinstance(window, str):
            self._fail(claim, window)
            return
        request = replace(window, images=images)
        connector = self.registry.for_account(ref)
        if connector is None:
            self._fail(
                claim, f"no connector configured for {ref.platform} (set settings.base_url?)"
            )
            return
        # Mastodon puts "@acct " before the text: measure and split with it included.
        mention_prefix = getattr(connector, "mention_prefix", None)
        prefix = ""
        if mention_prefix is not None:
            try:
                prefix = await mention_prefix(ref, request)
            except SendError as error:
                await self._handle_error(claim, ref, connector, request, error)
                return
        texts = thread_parts(ref.platform, request, prefix=prefix)
        if isinstance(texts, str):
            self._fail(claim, texts)
            return
        # A network may refuse images on this reply only at send time (Meta: an image
        # cannot follow a private reply to a comment); before any part goes out.
        refuse_images = getattr(connector, "refuse_images", None)
        refusal = refuse_images(ref, request) if request.images and refuse_images else None
        if refusal is not None:
            self._fail(claim, refusal)
            return
        parts = reply_parts(network, request, texts)
        with self.db.session() as s:
            stored = s.get(Message, claim.message_id)
            posted: list[str] = list(stored.meta.get("thread_ids", [])) if stored else []
        # A long answer goes out as a chain: each part replies to the previous one; on
        # Meta's DMs the images follow the text one message each. Parts already posted
        # (recorded after each success) are not sent again after a restart.
        first: SendResult | None = None
        for index, (body, images_of_part) in enumerate(parts):
            part = (
                replace(request, body=body, images=images_of_part)
                if len(parts) == 1
                else replace(
                    request,
                    body=body,
                    # The previous part: what a chain answers, and where the read-back
                    # of a lost DM part starts looking.
                    in_reply_to_id=posted[-1] if posted else request.in_reply_to_id,
                    idempotency_key=f"{request.idempotency_key}-part{index + 1}",
                    images=images_of_part,
                )
            )
            if index < len(posted):
                continue
            result = await self._send_part(claim, ref, connector, part)
            if result is None:
                return  # the failure or retry is recorded
            if len(parts) > 1:
                posted.append(result.platform_message_id)
                self._record_part(claim, posted)
            first = first or result
        if first is None and posted:
            first = SendResult(platform_message_id=posted[0])
        if first is not None:
            if len(parts) > 1:
                first = replace(first, platform_message_id=posted[0])
            self._sent(claim, ref, connector, first)

    async def _send_part(
        self, claim: Claim, ref: AccountRef, connector: Connector, request: OutboundRequest
    ) -> SendResult | None:
        if claim.may_be_posted:
            found = await self._look_up(connector, ref, request)
            if found is not None:
                return replace(found, sent_at=found.sent_at or self.clock())
        if claim.lease is not None and not claim.lease.holds(claim.entry_id):
            # Our lease ran out (a stall longer than the heartbeats could cover) and
            # another worker has the row: it looks the post up before sending.
            log.warning("outbox entry %s was taken over before sending", claim.entry_id)
            return None
        try:
            result = await connector.send(ref, request)
        except SendError as error:
            await self._handle_error(claim, ref, connector, request, error)
            return None
        if self.after_send is not None:
            await self.after_send(claim, result)
        return result

    def _record_part(self, claim: Claim, posted: list[str]) -> None:
        with self.db.write() as s:
            message = s.get(Message, claim.message_id)
            if message is not None:
                message.meta = {**message.meta, "thread_ids": list(posted)}

    async def _look_up(
        self, connector: Connector, account: AccountRef, request: OutboundRequest
    ) -> SendResult | None:
        # Connectors that search by the whole request (Bluesky DMs: the convo to look in
        # is in the request, not in the parent id).
        find_sent = getattr(connector, "find_sent_message", None)
        if find_sent is not None:
            try:
                sent: SendResult | None = await find_sent(account, request)
            except SendError:
                return None
            return sent
        find = getattr(connector, "find_recent_post", None)
        if find is None:
            return None
        try:
            found: Any = await find(account, request.body, request.in_reply_to_id)
        except SendError:
            return None
        if found is None:
            return None
        if isinstance(found, SendResult):
            return found
        return SendResult(platform_message_id=str(found))

    async def _handle_error(
        self,
        claim: Claim,
        account: AccountRef,
        connector: Connector,
        request: OutboundRequest,
        error: SendError,
    ) -> None:
        failure = error.failure
        if failure is SendFailure.DUPLICATE:
            found = await self._look_up(connector, account, request)
            if found is not None:
                self._sent(
                    claim, account, connector, found, note="the network already had this post"
                )
            else:
                self._fail(claim, f"{error.reason} (and no matching post was found)")
        elif failure is SendFailure.AUTH_REVOKED:
            self._fail(claim, error.reason, revoke_account=account.id)
        elif failure is SendFailure.RATE_LIMITED:
            retry_at = error.retry_at or (self.clock() + self.policy.backoff(1))
            self._retry(
                claim,
                f"rate limited until {retry_at.isoformat()}",
                retry_at,
                count_attempt=False,
                exhausted=(account, connector),
            )
        elif failure is SendFailure.RETRYABLE:
            with self.db.session() as s:
                entry = s.get(OutboxEntry, claim.entry_id)
                attempts = entry.attempts if entry else self.policy.max_attempts
            if attempts >= self.policy.max_attempts:
                self._fail(claim, f"{error.reason} (gave up after {attempts} attempts)")
            else:
                self._retry(claim, error.reason, self.clock() + self.policy.backoff(attempts))
        else:  # PERMANENT, OUTSIDE_WINDOW: retrying cannot help; show the network's reason
            self._fail(claim, error.reason)

    # -- recording outcomes -------------------------------------------------------------

    def _sent(
        self,
        claim: Claim,
        account: AccountRef,
        connector: Connector,
        result: SendResult,
        note: str | None = None,
    ) -> None:
        now = self.clock()
        limits = connector.rate_limit(account)
        with self.db.write() as s:
            entry = s.get(OutboxEntry, claim.entry_id)
            message = s.get(Message, claim.message_id)
            if entry is None or message is None:
                return
            channel = record_sent(
                s,
                entry,
                message,
                platform_message_id=result.platform_message_id,
                conversation_id=result.conversation_id,
                sent_at=result.sent_at or now,
                now=now,
                note=note,
            )
            if channel is not None:
                channel.rate_limit = _rate_limit_json(limits)

    def _retry(
        self,
        claim: Claim,
        reason: str,
        at: datetime,
        *,
        count_attempt: bool = True,
        exhausted: tuple[AccountRef, Connector] | None = None,
    ) -> None:
        """Queue the reply again for ``at``; ``exhausted`` names the account whose rate
        limit ran out, so channel health shows it until ``at``."""
        with self.db.write() as s:
            entry = s.get(OutboxEntry, claim.entry_id)
            message = s.get(Message, claim.message_id)
            if entry is None or message is None:
                return
            if exhausted is not None:
                account, connector = exhausted
                channel = s.get(ChannelAccount, account.id)
                if channel is not None:
                    limits = connector.rate_limit(account)
                    channel.rate_limit = _rate_limit_json(replace(limits, remaining=0, reset_at=at))
            entry.state = "queued"
            entry.next_attempt_at = at
            entry.claimed_until = None
            entry.last_error = reason
            if not count_attempt:
                entry.attempts = max(0, entry.attempts - 1)
            message.delivery_state = str(DeliveryState.QUEUED)
            message.delivery_error = f"will retry: {reason}"
            metrics.delivery_settled(s, message, "retry")

    def _fail(self, claim: Claim, reason: str, revoke_account: int | None = None) -> None:
        with self.db.write() as s:
            entry = s.get(OutboxEntry, claim.entry_id)
            message = s.get(Message, claim.message_id)
            if entry is None or message is None:
                return
            entry.state = "failed"
            entry.claimed_until = None
            entry.last_error = reason
            message.delivery_state = str(DeliveryState.FAILED)
            message.delivery_error = reason
            metrics.delivery_settled(s, message, "failed")
            if revoke_account is not None:
                channel = s.get(ChannelAccount, revoke_account)
                if channel is not None:
                    channel.status = str(AccountStatus.NEEDS_REAUTH)
                    channel.status_reason = reason
            queue_live_event(
                s,
                LiveEvent(
                    "message.updated",
                    message.workspace_id,
                    {"ticket_id": message.ticket_id, "message_id": message.id},
                ),
            )

    # -- background thread ------------------------------------------------------------

    async def run_pass(self) -> bool:
        return await self.run_once() > 0

    async def close(self) -> None:
        await self.registry.aclose()


def _rate_limit_json(limits: RateLimitState) -> dict[str, Any]:
    return {
        "limit": limits.limit,
        "remaining": limits.remaining,
        "reset_at": limits.reset_at.isoformat() if limits.reset_at else None,
    }
