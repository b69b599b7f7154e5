"""Hide or unhide a customer's public comment on the network (X replies, Facebook and
Instagram comments, Bluesky replies in the brand's own threads), then record it.

The network is asked first, with no transaction open (a slow network must not hold a
write lock). Only its yes is recorded, in one transaction: the message's ``hidden_at``,
the ticket event, the audit entry and the live update. A refusal records nothing as
hidden and reaches the caller with the network's reason (502); a revoked token also
marks the account for re-authorization, as a failed send does.

Bluesky lets only the author of a thread's first post hide replies in it (through that
post's threadgate). The thread's root is stored with each reply (its first reference),
so a reply in a thread the customer (or anyone but the brand) started is refused with
422 before Bluesky is asked; when the root was not stored the connector reads it from
the reply and refuses the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, record_ticket_change
from socialdesk.actions.tickets import require_writer
from socialdesk.channels.accounts import account_ref
from socialdesk.channels.base import AccountRef, SendError, SendFailure
from socialdesk.channels.bluesky.threadgate import NOT_THREAD_AUTHOR
from socialdesk.channels.descriptor import Absent, Hiding
from socialdesk.channels.networks import descriptor_for, find_descriptor
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.domain.enums import (
    AccountStatus,
    Direction,
    Platform,
    TicketEventKind,
    Visibility,
)
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import ChannelAccount, Message, Ticket, User


def why_not_hideable(
    direction: str, visibility: str, platform: str | None, platform_message_id: str | None
) -> str | None:
    """Why this message cannot be hidden on its network, or None when it can."""
    if direction != Direction.INBOUND:
        return "only a customer's message can be hidden, not our own or a note"
    if visibility != Visibility.PUBLIC:
        return "a private message is not public; there is nothing to hide"
    descriptor = find_descriptor(platform)
    if descriptor is None:
        return f"{platform or 'this network'} cannot hide messages"
    if isinstance(descriptor.hiding, Absent):
        return descriptor.hiding.reason
    if not platform_message_id:
        return "the message has no id on the network"
    return None


@dataclass(frozen=True, slots=True)
class HidePlan:
    """What the network call needs; read in one short transaction before it."""

    account: AccountRef
    platform: Platform
    platform_message_id: str
    hidden: bool
    # Bluesky: the uri of the thread's first post, when stored (else the connector reads it).
    thread_root_id: str | None = None


def plan_hide(
    session: Session, actor: User, ticket: Ticket, message: Message, hidden: bool
) -> HidePlan | None:
    """The network call to make, or None when the message is already as asked."""
    require_writer(actor)
    platform = message.platform or ticket.platform
    reason = why_not_hideable(
        message.direction, message.visibility, platform, message.platform_message_id
    )
    if reason is not None:
        raise ActionError(reason, 422)
    if (message.hidden_at is not None) == hidden:
        return None
    account = (
        session.get(ChannelAccount, message.channel_account_id)
        if message.channel_account_id is not None
        else None
    )
    if account is None:
        raise ActionError("the brand account this message came through is gone", 422)
    assert message.platform_message_id is not None  # checked by why_not_hideable
    ref = account_ref(account)
    return HidePlan(
        account=ref,
        platform=Platform(platform),
        platform_message_id=message.platform_message_id,
        hidden=hidden,
        thread_root_id=_thread_root(message, platform, ref),
    )


def _references(message: Message) -> list[str]:
    references = (message.meta or {}).get("references") or []
    return [r for r in references if isinstance(r, str)]


def hide_refusal(message: Message, platform: str | None, brand_ids: set[str]) -> str | None:
    """Why the brand (any of ``brand_ids``) cannot hide this reply, as far as the stored
    thread tells (the network's ``Hiding.refusal``: on Bluesky only the thread's author
    may hide); None when it can or only the network can tell."""
    descriptor = find_descriptor(platform)
    hiding = descriptor.hiding if descriptor is not None else None
    if not isinstance(hiding, Hiding) or hiding.refusal is None:
        return None
    return hiding.refusal(
        message.platform_message_id or "",
        message.reply_to_platform_id,
        _references(message),
        brand_ids,
    )


def _thread_root(message: Message, platform: str, account: AccountRef) -> str | None:
    """The first post of this reply's thread when the network needs it to hide (None:
    not needed or not stored); ActionError 422 when the brand may not hide there."""
    reason = hide_refusal(message, platform, {account.external_id, account.secrets.get("did", "")})
    if reason is not None:
        raise ActionError(reason, 422)
    hiding = descriptor_for(platform).hiding
    if not isinstance(hiding, Hiding) or hiding.thread_root is None:
        return None
    return hiding.thread_root(
        message.platform_message_id or "", message.reply_to_platform_id, _references(message)
    )


async def ask_network(registry: ConnectorRegistry, plan: HidePlan) -> None:
    """Hide or unhide on the network; SendError (classified as for sends) when it refuses."""
    hiding = descriptor_for(plan.platform).hiding
    connector = registry.for_account(plan.account)
    if isinstance(hiding, Absent) or connector is None:
        raise SendError(SendFailure.PERMANENT, f"no connector can hide on {plan.platform}")
    await hiding.hide(
        connector,
        plan.account,
        plan.platform_message_id,
        plan.hidden,
        platform=plan.platform,
        thread_root=plan.thread_root_id,
    )


def record_hidden(
    session: Session, actor: User, ticket: Ticket, message: Message, hidden: bool
) -> Message:
    """Store what the network accepted: hidden state, ticket event, audit, live event.
    A message already in that state (another agent was quicker) records nothing."""
    if (message.hidden_at is not None) == hidden:
        return message
    now = utcnow()
    message.hidden_at = now if hidden else None
    record_ticket_change(
        session,
        ticket,
        actor,
        TicketEventKind.MESSAGE_HIDDEN if hidden else TicketEventKind.MESSAGE_UNHIDDEN,
        {"message_id": message.id, "platform_message_id": message.platform_message_id},
        at=now,
    )
    queue_live_event(
        session,
        LiveEvent(
            "message.updated",
            message.workspace_id,
            {"ticket_id": message.ticket_id, "message_id": message.id},
        ),
    )
    return message


def _mark_needs_reauth(db: Database, account_id: int, reason: str) -> None:
    with db.write() as session:
        account = session.get(ChannelAccount, account_id)
        if account is not None:
            account.status = str(AccountStatus.NEEDS_REAUTH)
            account.status_reason = reason


def _load(
    session: Session,
    load_ticket: Callable[[Session], Ticket],
    actor_id: int,
    message_id: int,
) -> tuple[User, Ticket, Message]:
    ticket = load_ticket(session)
    actor = session.get(User, actor_id)
    message = session.get(Message, message_id)
    if actor is None:
        raise ActionError("unknown user", 403)
    if message is None or message.ticket_id != ticket.id:
        raise ActionError(f"message {message_id} not found on ticket {ticket.id}", 404)
    # Loaded while the session is open: the API returns the message after it closes.
    message.attachments  # noqa: B018
    return actor, ticket, message


async def set_message_hidden(
    db: Database,
    registry: ConnectorRegistry,
    actor_id: int,
    load_ticket: Callable[[Session], Ticket],
    message_id: int,
    hidden: bool,
) -> Message:
    """Hide (``hidden=True``) or unhide a customer's public message, network first.

    ``load_ticket`` finds the ticket for this caller (404 outside their workspaces).
    Raises ActionError: 403 read-only role, 404 unknown message, 422 cannot be hidden
    (including a Bluesky reply in a thread the brand did not start), 502 the network
    refused (its reason)."""

    def plan() -> tuple[HidePlan | None, Message]:
        with db.session() as session:
            actor, ticket, message = _load(session, load_ticket, actor_id, message_id)
            return plan_hide(session, actor, ticket, message, hidden), message

    # Database work in a thread: the event loop keeps serving while SQLite waits.
    hide_plan, message = await asyncio.to_thread(plan)
    if hide_plan is None:
        return message  # already as asked: a no-op success
    try:
        await ask_network(registry, hide_plan)
    except SendError as error:
        if error.code == NOT_THREAD_AUTHOR:  # our own rule, known once the root was read
            raise ActionError(error.reason, 422) from error
        if error.failure is SendFailure.AUTH_REVOKED:
            await asyncio.to_thread(_mark_needs_reauth, db, hide_plan.account.id, error.reason)
        hiding = descriptor_for(hide_plan.platform).hiding
        name = hiding.name if isinstance(hiding, Hiding) else str(hide_plan.platform)
        raise ActionError(f"{name} refused: {error.reason}", 502) from error

    def record() -> Message:
        with db.write() as session:
            actor, ticket, message = _load(session, load_ticket, actor_id, message_id)
            return record_hidden(session, actor, ticket, message, hidden)

    return await asyncio.to_thread(record)
