"""Echoes confirm: a network's copy of our own send marks the send as done.

Meta has no idempotency key, but it delivers every send back to the webhook (Messenger
and Instagram ``is_echo`` messages, Page feed comments from the Page itself). The
delivery worker commits an outbox row as ``sending`` before the network call; if it
dies after Meta's success, the row stays ``sending`` and the next worker would have to
look the send up. An echo that arrives first settles it: when its id is on no message
yet, and an outbound message of that account still ``sending`` has the same text and
the same target (the comment thread it answers, or the DM conversation), the echo's id
is recorded on it and it is marked sent, so the resumed worker finds nothing to do.

A DM echo also names the customer's messaging id. A private reply to a comment is the
first time we learn a Facebook commenter's PSID, so the ticket's contact gets that
identity and the customer's answer by DM joins the ticket's contact.
"""

from __future__ import annotations

import logging
import unicodedata

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from socialdesk.channels.base import EchoedSend, ParsedEvent
from socialdesk.delivery.settle import record_sent
from socialdesk.domain.enums import DeliveryState, Direction, Visibility
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import (
    ContactIdentity,
    Message,
    MessageAttachment,
    OutboxEntry,
    Ticket,
)

log = logging.getLogger(__name__)

CONFIRMED_NOTE = "confirmed by the network's echo of the send"


def confirm_echoes(db: Database, parsed: ParsedEvent) -> int:
    """Settle the sends these echoes confirm; how many were marked sent. Never raises:
    a failure here must not hold up the event's messages (the worker's own lookup is
    still there)."""
    if not any(echo.account_ids for echo in parsed.echoes):
        return 0
    try:
        with db.write() as s:
            return confirm_echoes_in(s, parsed)
    except Exception:
        log.exception("confirming echoed sends failed; the delivery worker will look them up")
        return 0


def confirm_echoes_in(s: Session, parsed: ParsedEvent) -> int:
    """``confirm_echoes`` inside the caller's transaction (the raw-event worker's, which
    holds the claim on the delivery): raises what it meets, for the caller to decide."""
    confirmed = 0
    for echo in parsed.echoes:
        if not echo.account_ids:
            continue
        recorded = s.scalar(
            select(Message)
            .where(
                Message.platform_message_id == echo.platform_message_id,
                Message.channel_account_id.in_(echo.account_ids),
            )
            .limit(1)
        )
        if recorded is None:
            recorded = _waiting_send(s, echo)
            if recorded is None:
                continue
            _mark_sent(s, recorded, echo)
            confirmed += 1
        if recorded.direction == Direction.OUTBOUND:
            _link_recipient(s, recorded, echo)
    return confirmed


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _waiting_send(s: Session, echo: EchoedSend) -> Message | None:
    """The oldest outbound message of the echo's account still being sent, with the
    echo's text and target."""
    wanted = Visibility.PRIVATE if echo.conversation_id else Visibility.PUBLIC
    candidates = s.scalars(
        select(Message)
        .join(OutboxEntry, OutboxEntry.message_id == Message.id)
        .where(
            Message.channel_account_id.in_(echo.account_ids),
            Message.direction == str(Direction.OUTBOUND),
            Message.visibility == str(wanted),
            Message.delivery_state == str(DeliveryState.SENDING),
            Message.platform_message_id.is_(None),
            OutboxEntry.state == "sending",
        )
        .order_by(Message.id)
    ).all()
    text = _fold(echo.text)
    for message in candidates:
        if echo.conversation_id and _has_images(s, message):
            # A DM with images goes out as several messages (the text, then one per
            # image): one echo is not the whole reply; the worker records each part.
            continue
        if _fold(message.body) == text and _same_target(s, message, echo):
            return message
    return None


def _has_images(s: Session, message: Message) -> bool:
    stored = select(MessageAttachment.id).where(
        MessageAttachment.message_id == message.id, MessageAttachment.stored_key.is_not(None)
    )
    return s.scalar(stored.limit(1)) is not None


def _same_target(s: Session, message: Message, echo: EchoedSend) -> bool:
    in_ticket = select(Message.id).where(Message.ticket_id == message.ticket_id)
    if echo.parent_id:
        # The comment answered, or any comment of the thread whose top is the parent
        # (Meta nests replies one level: an answer to a reply sits under its parent).
        thread = in_ticket.where(
            or_(
                Message.platform_message_id == echo.parent_id,
                Message.reply_to_platform_id == echo.parent_id,
            )
        )
        return s.scalar(thread.limit(1)) is not None
    if echo.conversation_id:
        conversation = in_ticket.where(Message.conversation_id == echo.conversation_id)
        if s.scalar(conversation.limit(1)) is not None:
            return True
        # A private reply opens the conversation: the ticket has none with anyone yet.
        opened = in_ticket.where(Message.conversation_id.is_not(None))
        return bool(message.meta.get("private_reply_to")) and s.scalar(opened.limit(1)) is None
    return False


def _mark_sent(s: Session, message: Message, echo: EchoedSend) -> None:
    """What the delivery worker records on success, with the echo's id."""
    now = utcnow()
    record_sent(
        s,
        s.scalar(select(OutboxEntry).where(OutboxEntry.message_id == message.id)),
        message,
        platform_message_id=echo.platform_message_id,
        conversation_id=echo.conversation_id,
        sent_at=now,
        now=now,
        note=CONFIRMED_NOTE,
    )


def _link_recipient(s: Session, message: Message, echo: EchoedSend) -> None:
    """The DM's recipient is the ticket's customer: give the contact that identity."""
    if not echo.recipient_id or echo.recipient_platform is None:
        return
    ticket = s.get(Ticket, message.ticket_id)
    if ticket is None or ticket.contact_id is None:
        return
    known = s.scalar(
        select(ContactIdentity.id).where(
            ContactIdentity.workspace_id == ticket.workspace_id,
            ContactIdentity.platform == str(echo.recipient_platform),
            ContactIdentity.external_user_id == echo.recipient_id,
        )
    )
    if known is None:
        s.add(
            ContactIdentity(
                workspace_id=ticket.workspace_id,
                contact_id=ticket.contact_id,
                platform=str(echo.recipient_platform),
                external_user_id=echo.recipient_id,
                created_at=utcnow(),
            )
        )
