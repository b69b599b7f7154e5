"""What to send for a queued reply: the request (under which customer message), the
messaging window it must respect, and the parts it is posted in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.channels.base import MessageTemplate, OutboundImage, OutboundRequest, ReplyKind
from socialdesk.channels.descriptor import Absent, ReplyImages
from socialdesk.channels.networks import find_descriptor
from socialdesk.domain.enums import Direction, Platform, Visibility
from socialdesk.domain.length_rules import (
    allows_threading,
    check_length,
    count_length,
    rule_for,
    split_into_thread,
)
from socialdesk.store.file_storage import FileStorage
from socialdesk.store.models import (
    Contact,
    ContactIdentity,
    Message,
    MessageAttachment,
    OutboxEntry,
    Ticket,
)

# Why a web-form ticket cannot be answered: the form has no way back to the customer.


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
    chosen = message.meta.get("reply_to_message_id")
    if isinstance(chosen, int):
        # The agent answered one message of the thread (a fan thanked): under that one.
        picked = session.get(Message, chosen)
        if picked is not None and picked.ticket_id == ticket.id:
            target = picked
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


def stored_images(
    session: Session, storage: FileStorage, message_id: int
) -> tuple[OutboundImage, ...]:
    """The images linked to a reply (its stored attachments, in order), read from the
    attachment storage; ``StorageError`` when one cannot be read."""
    rows = session.execute(
        select(
            MessageAttachment.stored_key,
            MessageAttachment.stored_mime_type,
            MessageAttachment.name,
            MessageAttachment.alt_text,
        )
        .where(
            MessageAttachment.message_id == message_id,
            MessageAttachment.stored_key.is_not(None),
        )
        .order_by(MessageAttachment.position, MessageAttachment.id)
    ).all()
    return tuple(
        OutboundImage(
            storage.get(str(key)),
            str(mime or "application/octet-stream"),
            name or "image",
            alt or "",
        )
        for key, mime, name, alt in rows
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


# One posted piece of a reply: its text and the images that go with it.
Part = tuple[str, tuple[OutboundImage, ...]]


def reply_parts(platform: Platform, request: OutboundRequest, texts: list[str]) -> list[Part]:
    """The messages a reply goes out as: its text parts (``thread_parts``), the images
    on the first one, or, where the network carries one image per message (Meta's
    DMs), the text first and then each image as a message of its own."""
    descriptor = find_descriptor(platform)
    rule = descriptor.reply_images if descriptor else None
    if (
        request.images
        and isinstance(rule, ReplyImages)
        and rule.one_per_message
        and request.kind in rule.kinds
    ):
        text_parts: list[Part] = [(text, ()) for text in texts if text.strip()]
        return text_parts + [("", (image,)) for image in request.images]
    return [(text, request.images if index == 0 else ()) for index, text in enumerate(texts)]
