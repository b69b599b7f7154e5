"""Sending a failed reply again: the agent fixed what the network refused (a token
re-authorized, a rate limit passed, a network that was down) and tries once more."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.inbox import may_post
from socialdesk.actions.recording import ActionError, record_ticket_change
from socialdesk.actions.tickets import require_writer
from socialdesk.domain.enums import AccountStatus, DeliveryState, Direction, TicketEventKind
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.db import utcnow
from socialdesk.store.models import ChannelAccount, Message, OutboxEntry, Ticket, User


def retry_failed_reply(session: Session, ticket: Ticket, actor: User, message: Message) -> Message:
    """Queue a failed reply again, with its original outbox row: the same idempotency key,
    so a send that did reach the network before failing is found, not posted twice."""
    require_writer(actor)
    if message.ticket_id != ticket.id or message.direction != str(Direction.OUTBOUND):
        raise ActionError(f"reply {message.id} not found on ticket {ticket.id}", 404)
    if message.delivery_state != str(DeliveryState.FAILED):
        raise ActionError(
            f"only a failed reply can be sent again; this one is {message.delivery_state}", 409
        )
    entry = session.scalar(
        select(OutboxEntry).where(OutboxEntry.message_id == message.id).with_for_update()
    )
    if entry is None or entry.state != "failed":
        raise ActionError("this reply is no longer waiting to be sent again", 409)
    account = session.get(ChannelAccount, entry.channel_account_id or 0)
    if account is None:
        raise ActionError("the channel account of this reply no longer exists", 409)
    if not may_post(session, actor, account.id):
        raise ActionError(f"you may not post on @{account.handle}; ask a lead to send it", 403)
    if account.status != AccountStatus.ACTIVE:
        raise ActionError(
            f"@{account.handle} must be re-authorized before replies can go out "
            f"(Settings → Channels): {account.status_reason or account.status}",
            409,
        )
    previous = message.delivery_error
    entry.state = "queued"
    entry.attempts = 0
    entry.next_attempt_at = utcnow()
    entry.claimed_until = None
    entry.last_error = None
    message.delivery_state = str(DeliveryState.QUEUED)
    message.delivery_error = None
    record_ticket_change(
        session,
        ticket,
        actor,
        TicketEventKind.REPLY_RETRIED,
        {"message_id": message.id, "previous_error": previous},
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
