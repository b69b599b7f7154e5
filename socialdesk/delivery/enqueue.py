"""Queue a reply for delivery, in the same transaction as the reply: which kind of
send it is and, for a web-form ticket, the e-mail account that answers it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.channels.base import ReplyKind
from socialdesk.channels.networks import find_descriptor
from socialdesk.domain.enums import AccountStatus, DeliveryState, Platform, Visibility
from socialdesk.store.db import utcnow
from socialdesk.store.models import (
    ChannelAccount,
    Message,
    OutboxEntry,
)

# Why a web-form ticket cannot be answered: the form has no way back to the customer.


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
