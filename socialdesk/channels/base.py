"""The connector interface every network implements.

A connector turns a network's wire format into ``InboundMessage`` objects and our
replies into the network's send calls. It never touches the database: the webhook
router stores the raw event, the pipeline stores messages, the delivery worker records
send results. Connectors reach their network only through ``base_url`` and an
injectable ``httpx`` transport, so an emulator can stand in without the connector
knowing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, Self

import httpx

from socialdesk.domain.enums import Platform, Visibility
from socialdesk.domain.messages import InboundMessage


@dataclass(frozen=True, slots=True)
class AccountRef:
    """What a connector needs to know about one connected brand account."""

    id: int
    platform: Platform
    external_id: str
    handle: str
    secrets: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, object] = field(default_factory=dict)


class AccountResolver(Protocol):
    """Finds our account for the platform's id of the brand (``for_user_id``,
    ``entry[].id``)."""

    def __call__(self, platform: Platform, external_id: str) -> AccountRef | None: ...


class VerificationError(Exception):
    """The request is not from the network: missing or wrong signature (401/403)."""

    def __init__(self, reason: str, status_code: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


class PayloadError(Exception):
    """The body is not what the network sends (400); the raw event is kept."""


@dataclass(frozen=True, slots=True)
class EchoedSend:
    """One of our own sends seen again in a webhook, with what it takes to match it to
    an outbound message still waiting for the network's answer (``sending``).

    ``parent_id`` is the comment or post a public reply sits under; ``recipient_id`` is
    the customer a DM went to and ``conversation_id`` that DM thread, in the form the
    connector's inbound messages use."""

    platform_message_id: str
    account_ids: tuple[int, ...]
    text: str
    parent_id: str | None = None
    recipient_id: str | None = None
    conversation_id: str | None = None
    # The platform name the customer's answers to a DM will arrive under.
    recipient_platform: Platform | None = None


@dataclass(frozen=True, slots=True)
class RejectedEvent:
    """One event of a delivery that could not be read while its neighbours could: why,
    and a delivery body holding only that event (the same wire format), which is kept
    as a failed raw event of its own and can be retried on its own."""

    reason: str
    body: str


class NetworkStatus(StrEnum):
    """A sent message's fate as the network reports it, in the order it advances."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """One status report on a message we sent (WhatsApp ``statuses``): the network's id
    of our message, the account it went out on, and the reason when it failed."""

    platform_message_id: str
    account_id: int
    status: NetworkStatus
    at: datetime
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedEvent:
    """What one webhook body yields: messages and the accounts they were for."""

    messages: Sequence[InboundMessage]
    # Platform ids of our own posts seen again (echoes), so delivery can confirm them.
    echoed_message_ids: Sequence[str] = ()
    # Accounts whose authorization the network revoked in this event.
    revoked_account_ids: Sequence[int] = ()
    # The same echoes with their text and target, where the network gives them.
    echoes: Sequence[EchoedSend] = ()
    # Events of this body refused one by one (their neighbours above were read).
    rejected: Sequence[RejectedEvent] = ()
    # What the network says became of our sends (delivered, read, failed).
    statuses: Sequence[DeliveryStatus] = ()
    # Events read and deliberately left alone, one type per event (``messenger.read``,
    # ``x.favorite``): counted, and the reason of a raw event holding nothing else.
    ignored: Sequence[str] = ()


def refuse_if_nothing_read(parsed: ParsedEvent) -> ParsedEvent:
    """A body of which every event was refused, with nothing else read, is refused as a
    whole: its raw event fails with the reasons instead of being split into copies."""
    if parsed.rejected and not (
        parsed.messages
        or parsed.echoed_message_ids
        or parsed.revoked_account_ids
        or parsed.statuses
    ):
        raise PayloadError("; ".join(r.reason for r in parsed.rejected))
    return parsed


@dataclass(frozen=True, slots=True)
class PollResult:
    messages: Sequence[InboundMessage]
    cursor: str | None


class ReplyKind(StrEnum):
    PUBLIC_REPLY = "public_reply"
    DIRECT_MESSAGE = "direct_message"
    EMAIL = "email"


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """A message template the network approved in advance (WhatsApp): the only kind of
    message it accepts once the customer-service window has closed. ``parameters``
    fill its placeholders in order."""

    name: str
    language: str
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OutboundImage:
    """An image attached to a reply: its bytes (from the attachment storage), the type
    they show, the file name the agent uploaded, and its description (alt text, empty
    when none was given)."""

    data: bytes
    mime_type: str
    name: str = "image"
    alt: str = ""


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    """One reply to send. ``idempotency_key`` is stable across retries of the same
    message, so networks that support it (Mastodon) never post twice."""

    kind: ReplyKind
    body: str
    idempotency_key: str
    in_reply_to_id: str | None = None
    recipient_id: str | None = None
    conversation_id: str | None = None
    root_id: str | None = None
    subject: str | None = None
    references: tuple[str, ...] = ()
    visibility: Visibility = Visibility.PUBLIC
    # Messenger: send outside the 24 h window with the HUMAN_AGENT tag.
    human_agent_tag: bool = False
    # When the reply was written: stable across retries, unlike the time of sending, so
    # a connector can derive a repeatable record key from it (Bluesky's post rkey).
    created_at: datetime | None = None
    # Send as this approved template instead of free text (WhatsApp, window closed).
    template: MessageTemplate | None = None
    # Images to attach (the descriptor's ``reply_images`` allowed them when the reply was
    # written); uploaded to the network as part of the send, so a retry uploads again.
    images: tuple[OutboundImage, ...] = ()


@dataclass(frozen=True, slots=True)
class SendResult:
    platform_message_id: str
    conversation_id: str | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """Whom the network says an account's credentials belong to (the live check)."""

    external_id: str
    handle: str
    name: str = ""


class SendFailure(StrEnum):
    RETRYABLE = "retryable"  # 5xx, timeouts, transient codes: back off and retry
    RATE_LIMITED = "rate_limited"  # wait until ``retry_at``
    AUTH_REVOKED = "auth_revoked"  # the account needs re-authorization; no retry
    DUPLICATE = "duplicate"  # the network says we posted this already: look it up
    OUTSIDE_WINDOW = "outside_window"  # Meta 24 h window; needs another path
    PERMANENT = "permanent"  # the request itself is wrong; show the reason


class SendError(Exception):
    def __init__(
        self,
        failure: SendFailure,
        reason: str,
        *,
        code: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason
        self.code = code
        self.retry_at = retry_at


@dataclass(frozen=True, slots=True)
class RateLimitState:
    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None


class Connector(Protocol):
    platform: Platform

    async def send(self, account: AccountRef, request: OutboundRequest) -> SendResult: ...

    async def poll(self, account: AccountRef, cursor: str | None) -> PollResult: ...

    def rate_limit(self, account: AccountRef) -> RateLimitState: ...


class LazyHttpClient:
    """One ``httpx.AsyncClient`` per connector, created on first use (inside the event
    loop that uses it) and closed by ``aclose``; an injected client is left open."""

    _client: httpx.AsyncClient | None = None
    _transport: httpx.AsyncBaseTransport | None = None
    _timeout: float = 10.0
    _base_url: str = ""
    _owns_client: bool = True

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self._base_url, transport=self._transport, timeout=self._timeout
            )
            self._owns_client = True
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
