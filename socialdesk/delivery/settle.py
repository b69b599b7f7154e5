"""Record that a reply went out: outbox entry, message, metrics, the live event, and the
scheduled reply that only now becomes the ticket's answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from socialdesk.dispatch import ScheduledReplySent, emit
from socialdesk.domain.enums import DeliveryState
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.observability.metrics import delivery_settled
from socialdesk.store.models import (
    ChannelAccount,
    Message,
    OutboxEntry,
)

# Why a web-form ticket cannot be answered: the form has no way back to the customer.


def record_sent(
    session: Session,
    entry: OutboxEntry | None,
    message: Message,
    *,
    platform_message_id: str,
    conversation_id: str | None,
    sent_at: datetime,
    now: datetime,
    note: str | None = None,
) -> ChannelAccount | None:
    """Mark a reply as out on the network, with the network's id: the outbox row, the
    message, a scheduled reply's effect on the ticket, the account's last send and the
    live update. One place for the delivery worker and for an echo that confirms a send;
    the account is returned for the caller's own bookkeeping (rate-limit state)."""
    if entry is not None:
        entry.state = "sent"
        entry.sent_at = sent_at
        entry.claimed_until = None
        entry.last_error = note
    message.platform_message_id = platform_message_id
    if conversation_id and not message.conversation_id:
        message.conversation_id = conversation_id
    message.delivery_state = str(DeliveryState.SENT)
    message.delivery_error = None
    delivery_settled(session, message, "sent", entry.created_at if entry else None, sent_at)
    if message.meta.get("scheduled_for"):
        # A scheduled reply becomes the ticket's answer only when it goes out (first
        # response, SLA clocks, status): the ticket actions listen for it.
        emit(ScheduledReplySent(session, message, now))
    channel = (
        session.get(ChannelAccount, message.channel_account_id)
        if message.channel_account_id is not None
        else None
    )
    if channel is not None:
        channel.last_sent_at = now
    queue_live_event(
        session,
        LiveEvent(
            "message.updated",
            message.workspace_id,
            {"ticket_id": message.ticket_id, "message_id": message.id},
        ),
    )
    return channel
