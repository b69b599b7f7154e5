"""Which ticket a message belongs to.

Order of evidence, strongest first: the reply chain (the post it answers, then older
references such as e-mail ``References``), the private conversation it is part of,
a message already stored that answers *this* one (its parent arrived late), and
finally the same customer's open ticket within the thread window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from socialdesk.domain.enums import UNSOLVED_STATUSES
from socialdesk.domain.messages import InboundMessage
from socialdesk.pipeline.identities import chunks
from socialdesk.store.models import Message, Ticket
from socialdesk.store.models.base import table_of

_messages = table_of(Message)
_tickets = table_of(Ticket)

AccountRef = tuple[int, str]  # (channel_account_id, platform id)


@dataclass(slots=True)
class ThreadIndex:
    """Lookups for one batch, loaded with a few set queries and updated as the
    batch's own messages are placed (so a batch can thread into itself)."""

    by_message: dict[AccountRef, int] = field(default_factory=dict)
    by_conversation: dict[AccountRef, int] = field(default_factory=dict)
    by_child: dict[AccountRef, int] = field(default_factory=dict)
    open_by_contact: dict[int, tuple[int, datetime]] = field(default_factory=dict)

    def place(self, message: InboundMessage, ticket_key: int) -> None:
        account = message.channel_account_id
        self.by_message[(account, message.platform_message_id)] = ticket_key
        if message.conversation_id:
            self.by_conversation[(account, message.conversation_id)] = ticket_key
        if message.reply_to_id:
            self.by_child.setdefault((account, message.reply_to_id), ticket_key)

    def find(self, message: InboundMessage) -> tuple[int, str] | None:
        """The ticket key and the rule that found it, or None."""
        account = message.channel_account_id
        for parent in (message.reply_to_id, *reversed(message.references)):
            if parent and (account, parent) in self.by_message:
                return self.by_message[(account, parent)], "reply_chain"
        if message.conversation_id and (account, message.conversation_id) in self.by_conversation:
            return self.by_conversation[(account, message.conversation_id)], "conversation"
        if (account, message.platform_message_id) in self.by_child:
            return self.by_child[(account, message.platform_message_id)], "late_parent"
        return None

    def open_ticket_of(self, contact_id: int, at: datetime, window: timedelta) -> int | None:
        entry = self.open_by_contact.get(contact_id)
        if entry is None:
            return None
        ticket_key, last_message_at = entry
        return ticket_key if at - last_message_at <= window else None


def load_thread_index(
    conn: Connection, messages: Iterable[InboundMessage], contact_ids: Iterable[int]
) -> ThreadIndex:
    index = ThreadIndex()
    accounts: set[int] = set()
    parents: set[str] = set()
    conversations: set[str] = set()
    own_ids: set[str] = set()
    for m in messages:
        accounts.add(m.channel_account_id)
        parents.update(p for p in (m.reply_to_id, *m.references) if p)
        if m.conversation_id:
            conversations.add(m.conversation_id)
        own_ids.add(m.platform_message_id)

    # One query per kind for the whole batch; ids are looked up across accounts and the
    # rows of other accounts dropped here, which keeps the query count flat.
    for part in chunks(sorted(parents)):
        rows = conn.execute(
            select(
                _messages.c.channel_account_id,
                _messages.c.platform_message_id,
                _messages.c.ticket_id,
            ).where(_messages.c.platform_message_id.in_(part))
        )
        index.by_message.update(
            ((r.channel_account_id, r.platform_message_id), r.ticket_id)
            for r in rows
            if r.channel_account_id in accounts
        )
    for part in chunks(sorted(conversations)):
        rows = conn.execute(
            select(
                _messages.c.channel_account_id, _messages.c.conversation_id, _messages.c.ticket_id
            )
            .where(_messages.c.conversation_id.in_(part))
            .order_by(_messages.c.id)
        )
        # Ascending ids: the newest ticket of a conversation wins.
        index.by_conversation.update(
            ((r.channel_account_id, r.conversation_id), r.ticket_id)
            for r in rows
            if r.channel_account_id in accounts
        )
    for part in chunks(sorted(own_ids)):
        rows = conn.execute(
            select(
                _messages.c.channel_account_id,
                _messages.c.reply_to_platform_id,
                _messages.c.ticket_id,
            ).where(_messages.c.reply_to_platform_id.in_(part))
        )
        for r in rows:
            if r.channel_account_id in accounts:
                index.by_child.setdefault(
                    (r.channel_account_id, r.reply_to_platform_id), r.ticket_id
                )
    for part in chunks(sorted(set(contact_ids))):
        rows = conn.execute(
            select(_tickets.c.id, _tickets.c.contact_id, _tickets.c.last_message_at)
            .where(
                _tickets.c.contact_id.in_(part),
                _tickets.c.status.in_([str(s) for s in UNSOLVED_STATUSES]),
            )
            .order_by(_tickets.c.last_message_at)
        )
        index.open_by_contact.update((r.contact_id, (r.id, r.last_message_at)) for r in rows)
    return index
