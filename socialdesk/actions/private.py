"""Move a public conversation to a private channel without losing it.

The public line invites the customer to DM (or the DM goes out directly where the
network allows it); the DM, and a later e-mail from the same person, land in this
ticket because the pipeline matches the contact's open ticket.

A Facebook or Instagram commenter who never wrote us a DM can be reached only by Meta's
private reply to their comment: one per comment, within 7 days of it. The delivery
worker sends a DM on such a ticket that way; its answer names the customer's messaging
id, so their reply by DM threads into this ticket.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.inbox import may_post
from socialdesk.actions.recording import ActionError, RoleRefused, record_ticket_change
from socialdesk.actions.tickets import reply, require_writer
from socialdesk.channels.descriptor import Absent, MoveToPrivate
from socialdesk.channels.networks import find_descriptor
from socialdesk.domain.enums import (
    DeliveryState,
    Direction,
    TicketEventKind,
    TicketStatus,
    Visibility,
)
from socialdesk.store.db import utcnow
from socialdesk.store.models import Message, Ticket, User

FALLBACK_INVITE = (
    "We'd like to help with this privately. Please send us a private message with the details."
)


def private_options(platform: str | None) -> MoveToPrivate | None:
    """How this network's conversations move to private (its descriptor's
    ``move_to_private``), or None when they cannot (already private)."""
    descriptor = find_descriptor(platform)
    if descriptor is None or isinstance(descriptor.move_to_private, Absent):
        return None
    return descriptor.move_to_private


def default_invite(platform: str | None) -> str:
    """The public line asking the customer to write to us privately."""
    options = private_options(platform)
    return (options.invite if options else None) or FALLBACK_INVITE


def can_open_dm(platform: str | None) -> bool:
    """Whether we may write the first private message ourselves on this network."""
    options = private_options(platform)
    return options is not None and options.open_dm


PRIVATE_REPLY_WINDOW = timedelta(days=7)


def comment_for_private_reply(session: Session, ticket: Ticket) -> Message | None:
    """The comment a DM on this ticket would answer as Meta's private reply, or None
    when the customer already wrote a DM (an ordinary DM then answers it). Raises
    ActionError when Meta would refuse the private reply."""
    inbound = session.scalars(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.direction == str(Direction.INBOUND))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(50)
    ).all()
    if any(m.visibility == Visibility.PRIVATE for m in inbound):
        return None
    # The newest comment: the delivery worker answers the customer's newest message.
    comment = inbound[0] if inbound and inbound[0].platform_message_id else None
    if comment is None:
        raise ActionError("this ticket has no comment to answer privately", 422)
    if utcnow() - comment.created_at > PRIVATE_REPLY_WINDOW:
        raise ActionError(
            "Meta allows a private reply only within 7 days of the comment; "
            "use mode 'invite' to ask the customer to write to you",
            422,
        )
    earlier = session.scalars(
        select(Message).where(
            Message.ticket_id == ticket.id,
            Message.direction == str(Direction.OUTBOUND),
            Message.delivery_state != str(DeliveryState.FAILED),
        )
    ).all()
    if any(m.meta.get("private_reply_to") == comment.platform_message_id for m in earlier):
        raise ActionError(
            "Meta allows one private reply per comment and this comment has one; "
            "the customer's answer will arrive here",
            422,
        )
    return comment


def move_to_private(
    session: Session, ticket: Ticket, actor: User, *, mode: str, body: str | None = None
) -> Message:
    if mode not in ("invite", "dm"):
        raise ActionError("mode must be 'invite' (public line asking for a DM) or 'dm'", 422)
    require_writer(actor)
    if not may_post(session, actor, ticket.channel_account_id):
        # An invitation or a DM cannot wait for approval the way a reply does.
        raise RoleRefused("you may not post on this account")
    if mode == "dm":
        if not can_open_dm(ticket.platform):
            raise ActionError(
                f"{ticket.platform} does not let us open a DM; use mode 'invite'", 422
            )
        if not body or not body.strip():
            raise ActionError("a direct message needs a body", 422)
        comment = (
            comment_for_private_reply(session, ticket)
            if (options := private_options(ticket.platform)) and options.answers_comment
            else None
        )
        message = reply(
            session,
            ticket,
            actor,
            body,
            visibility=Visibility.PRIVATE,
            status_after=TicketStatus.PENDING,
        )
        if comment is not None:
            message.meta = {**message.meta, "private_reply_to": comment.platform_message_id}
    else:
        text = body.strip() if body and body.strip() else default_invite(ticket.platform)
        message = reply(
            session,
            ticket,
            actor,
            text,
            visibility=Visibility.PUBLIC,
            status_after=TicketStatus.PENDING,
        )
    record_ticket_change(
        session,
        ticket,
        actor,
        TicketEventKind.MOVED_TO_PRIVATE,
        {"mode": mode, "message_id": message.id},
    )
    return message
