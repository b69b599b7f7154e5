"""Queue a reply for delivery (same transaction as the reply) and describe what to send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.channels.base import MessageTemplate, OutboundRequest, ReplyKind
from socialdesk.channels.descriptor import Absent
from socialdesk.channels.networks import find_descriptor
from socialdesk.domain.enums import AccountStatus, DeliveryState, Direction, Platform, Visibility
from socialdesk.domain.length_rules import (
    allows_threading,
    check_length,
    count_length,
    rule_for,
    split_into_thread,
)
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.observability.metrics import delivery_settled
from socialdesk.store.db import utcnow
from socialdesk.store.models import (
    ChannelAccount,
    Contact,
    ContactIdentity,
    Message,
    OutboxEntry,
    Ticket,
)

# Why a web-form ticket cannot be answered: the form has no way back to the customer.
NO_EMAIL_ACCOUNT = (
    "this ticket came from the web form and is answered by e-mail, but the workspace "
    "has no e-mail channel account: connect one, then send the reply again"
)


def reply_kind(platform: str | None, visibility: str) -> ReplyKind:
    """What a reply on ``platform`` becomes: e-mail on an e-mail-only network, a DM on
    a DM-only one, else as the customer wrote (public or private)."""
    descriptor = find_descriptor(platform)
    kinds = descriptor.reply_kinds if descriptor else ()
    if kinds == (ReplyKind.EMAIL,):
        return ReplyKind.EMAIL
    if kinds == (ReplyKind.DIRECT_MESSAGE,) or visibility == Visibility.PRIVATE:
        return ReplyKind.DIRECT_MESSAGE
    return ReplyKind.PUBLIC_REPLY


def email_account_for_web(session: Session, message: Message) -> ChannelAccount | None:
    """The e-mail account that answers a web-form ticket: the form account's
    ``settings.email_account_id`` if set, else the workspace's first e-mail account."""
    form = session.get(ChannelAccount, message.channel_account_id)
    chosen = form.settings.get("email_account_id") if form is not None else None
    query = select(ChannelAccount).where(
        ChannelAccount.workspace_id == message.workspace_id,
        ChannelAccount.platform == str(Platform.EMAIL),
        ChannelAccount.status != str(AccountStatus.DISABLED),
    )
    if chosen:
        query = query.where(ChannelAccount.id == int(str(chosen)))
    return session.scalar(query.order_by(ChannelAccount.id).limit(1))


def enqueue(session: Session, message: Message) -> OutboxEntry:
    """Queue ``message`` (flushed, so it has an id). A reply on a web-form ticket goes
    out through the workspace's e-mail account: the message moves to that account, so
    the customer's answer to it threads by Message-ID; without one it fails at once
    with the reason."""
    failure: str | None = None
    if message.platform == Platform.WEB:
        mailbox = email_account_for_web(session, message)
        if mailbox is None:
            failure = NO_EMAIL_ACCOUNT
        else:
            message.channel_account_id = mailbox.id
            message.platform = str(Platform.EMAIL)
    entry = OutboxEntry(
        message_id=message.id,
        channel_account_id=message.channel_account_id,
        kind=str(reply_kind(message.platform, message.visibility)),
        state="failed" if failure else "queued",
        attempts=0,
        next_attempt_at=utcnow(),
        # Stable across retries: networks that honour it (Mastodon) never post twice.
        idempotency_key=f"socialdesk-message-{message.id}",
        created_at=utcnow(),
        last_error=failure,
    )
    if failure:
        message.delivery_state = str(DeliveryState.FAILED)
        message.delivery_error = failure
    session.add(entry)
    return entry


def build_request(
    session: Session, entry: OutboxEntry, message: Message, ticket: Ticket
) -> OutboundRequest:
    """What to send: the reply goes under the customer's newest message of the same
    kind on this account (their latest public post for a public reply, the DM
    conversation for a private one)."""
    kind = ReplyKind(entry.kind)
    wants_private = kind is not ReplyKind.PUBLIC_REPLY
    candidates = session.scalars(
        select(Message)
        .where(
            Message.ticket_id == ticket.id,
            Message.direction == str(Direction.INBOUND),
            # A web-form ticket answered by e-mail: the form and the customer's mails.
            Message.channel_account_id.in_({message.channel_account_id, ticket.channel_account_id}),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(50)
    ).all()
    target = next(
        (m for m in candidates if (m.visibility == Visibility.PRIVATE) == wants_private), None
    ) or (candidates[0] if candidates else None)
    if kind is ReplyKind.EMAIL:
        # An e-mail answers the customer's newest e-mail, not a form post or a DM.
        target = next((m for m in candidates if m.platform == Platform.EMAIL), target)
    # An e-mail chosen in the composer names its address (contacts may have several).
    recipient: str | None = message.meta.get("to")
    if recipient is None and ticket.contact_id is not None and message.platform:
        recipient = session.scalar(
            select(ContactIdentity.external_user_id).where(
                ContactIdentity.contact_id == ticket.contact_id,
                ContactIdentity.platform == message.platform,
            )
        )
    if kind is ReplyKind.EMAIL and recipient is None and ticket.contact_id is not None:
        # A web-form contact has no e-mail identity yet: the address given on the form.
        recipient = session.scalar(select(Contact.email).where(Contact.id == ticket.contact_id))
    in_reply_to = target.platform_message_id if target else None
    references: tuple[str, ...] = ()
    if kind is ReplyKind.EMAIL:
        if target is None or target.platform != Platform.EMAIL:
            in_reply_to = None  # a form submission has no Message-ID to answer
        else:
            previous = tuple(str(r) for r in target.meta.get("references", []))
            references = (*previous, in_reply_to) if in_reply_to else previous
    return OutboundRequest(
        kind=kind,
        body=message.body,
        idempotency_key=entry.idempotency_key,
        in_reply_to_id=in_reply_to,
        recipient_id=recipient,
        conversation_id=target.conversation_id if target else None,
        subject=(message.subject or ticket.subject) if kind is ReplyKind.EMAIL else None,
        references=references,
        visibility=Visibility(message.visibility),
        human_agent_tag=bool(message.meta.get("human_agent_tag")),
        created_at=message.created_at,
        template=stored_template(message.meta.get("template")),
    )


def stored_template(value: object) -> MessageTemplate | None:
    """The approved template a reply was written with (``Message.meta["template"]``)."""
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None
    parameters = value.get("parameters")
    return MessageTemplate(
        name=value["name"],
        language=str(value.get("language") or "en_US"),
        parameters=tuple(str(p) for p in parameters) if isinstance(parameters, list) else (),
    )


def check_window(
    platform: Platform,
    request: OutboundRequest,
    last_inbound_at: datetime | None,
    now: datetime,
    *,
    human_typed: bool,
    customer_email: str | None,
) -> OutboundRequest | str:
    """The network's messaging window (its descriptor's): the request to send (Meta:
    tagged HUMAN_AGENT when 24 h to 7 d have passed and a person typed it), or the
    reason it cannot be sent, with alternatives."""
    descriptor = find_descriptor(platform)
    if descriptor is None or isinstance(descriptor.messaging_window, Absent):
        return request
    return descriptor.messaging_window.check_send(
        platform,
        request,
        last_inbound_at,
        now,
        human_typed=human_typed,
        customer_email=customer_email,
    )


def thread_parts(
    platform: Platform, request: OutboundRequest, *, prefix: str = ""
) -> list[str] | str:
    """The reply as it will be posted: one part, a numbered chain where the network
    allows threads, or the reason it cannot be sent as written.

    ``prefix`` is what the connector puts before every part (Mastodon's ``@acct ``); the
    parts leave room for it, so a reply that fits here also fits once it is added."""
    visibility = Visibility.PUBLIC if request.kind is ReplyKind.PUBLIC_REPLY else Visibility.PRIVATE
    limit = None
    room = rule_for(platform, visibility).limit
    if prefix and room is not None:
        limit = room - count_length(prefix, platform, visibility=visibility)
    check = check_length(request.body, platform, visibility=visibility, limit=limit)
    if check.fits:
        return [request.body]
    if request.kind is ReplyKind.PUBLIC_REPLY and allows_threading(platform):
        return split_into_thread(request.body, platform, visibility=visibility, limit=limit)
    leaving = f", leaving room for {prefix.strip()}" if prefix else ""
    return (
        f"too long for {platform}: {check.length} of {check.limit} {check.unit}{leaving}; "
        "shorten it or split it into several replies"
    )


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
        # response, SLA clocks, status). Imported here: actions build on the outbox,
        # not the other way round.
        from socialdesk.actions.tickets import scheduled_reply_sent

        scheduled_reply_sent(session, message, now)
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
