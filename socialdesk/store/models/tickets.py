"""Tickets, their messages, tags and the append-only ticket event log."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Computed,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from socialdesk.store.models.base import Base, BigId, created_at_column

if TYPE_CHECKING:
    from socialdesk.store.models.attachments import MessageAttachment

# The earliest non-null of the three due columns (LEAST ignores nulls only on PostgreSQL,
# SQLite's min() returns null on any null: spelled out so both agree). Also in 0008.
NEXT_DUE_SQL = (
    "CASE WHEN first_response_due_at IS NOT NULL"
    " AND (next_response_due_at IS NULL OR first_response_due_at <= next_response_due_at)"
    " AND (resolution_due_at IS NULL OR first_response_due_at <= resolution_due_at)"
    " THEN first_response_due_at"
    " WHEN next_response_due_at IS NOT NULL"
    " AND (resolution_due_at IS NULL OR next_response_due_at <= resolution_due_at)"
    " THEN next_response_due_at"
    " ELSE resolution_due_at END"
)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # The inbox lists by recency within a scope; each index serves one filter.
        Index("ix_tickets_ws_status_last", "workspace_id", "status", "last_message_at", "id"),
        Index("ix_tickets_ws_last", "workspace_id", "last_message_at", "id"),
        Index("ix_tickets_workspace_urgency", "workspace_id", "urgency"),
        Index("ix_tickets_platform_last", "platform", "last_message_at", "id"),
        Index("ix_tickets_account_last", "channel_account_id", "last_message_at", "id"),
        Index("ix_tickets_assignee_status", "assignee_id", "status", "last_message_at"),
        Index("ix_tickets_contact_status", "contact_id", "status"),
        # "Most urgent" (web/pages/inbox.py): one index range per priority, in waiting order.
        Index(
            "ix_tickets_ws_priority_awaiting", "workspace_id", "priority", "awaiting_since", "id"
        ),
        # "Needs reply" (web/pages/inbox_views.py): customers waiting, longest first, read in
        # index order; status last so its count reads only the index (0024).
        Index(
            "ix_tickets_ws_needs_reply",
            "workspace_id",
            "needs_reply",
            "awaiting_since",
            "id",
            "status",
        ),
        # "Time due" and "SLA at risk" (sla/views.py): one index range per status, in due order.
        Index("ix_tickets_ws_status_due", "workspace_id", "status", "next_due_at", "id"),
        # The inbox's view counts (web/pages/inbox.py) read only this index (0018).
        Index(
            "ix_tickets_ws_counts",
            "workspace_id",
            "status",
            "channel_account_id",
            "team_id",
            "assignee_id",
        ),
        # Search (store/search.py, migration 0020; SQLite uses the FTS5 table tickets_fts).
        Index(
            "ix_tickets_search", text("to_tsvector('simple', subject)"), postgresql_using="gin"
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    channel_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="SET NULL"), default=None
    )
    # Denormalized from the source account so "by channel" filters need no join.
    platform: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default="new")
    priority: Mapped[str] = mapped_column(String(20), default="normal")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None
    )
    # True while the newest customer message has no agent answer yet.
    needs_reply: Mapped[bool] = mapped_column(default=True)
    awaiting_since: Mapped[datetime | None] = mapped_column(default=None)
    message_count: Mapped[int] = mapped_column(default=0)
    first_message_at: Mapped[datetime]
    last_message_at: Mapped[datetime]
    last_inbound_at: Mapped[datetime | None] = mapped_column(default=None)
    last_outbound_at: Mapped[datetime | None] = mapped_column(default=None)
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    solved_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # A customer writing again on a closed ticket starts a new one linked to it.
    follow_up_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), default=None
    )
    # The latest customer message's triage (pipeline/triage_step.py): sentiment is the
    # score (-1..1), sentiment_label its negative/neutral/positive.
    sentiment: Mapped[float | None] = mapped_column(default=None)
    sentiment_label: Mapped[str | None] = mapped_column(String(10), default=None)
    intent: Mapped[str | None] = mapped_column(String(30), default=None)
    urgency: Mapped[int | None] = mapped_column(default=None)
    language: Mapped[str | None] = mapped_column(String(10), default=None)
    topic: Mapped[str | None] = mapped_column(String(80), default=None)
    # Labels an agent set by hand ({"intent": "praise"}): triage never overrides them.
    triage_manual: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # Filled by the SLA step once it exists.
    sla_policy_id: Mapped[int | None] = mapped_column(default=None)
    first_response_due_at: Mapped[datetime | None] = mapped_column(default=None)
    next_response_due_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution_due_at: Mapped[datetime | None] = mapped_column(default=None)
    sla_breached: Mapped[bool] = mapped_column(default=False)
    # The earliest running due time, computed by the database from the three columns
    # above so every writer (pipeline, actions, bulk loads) keeps it right for free.
    next_due_at: Mapped[datetime | None] = mapped_column(Computed(NEXT_DUE_SQL, persisted=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class TicketTag(Base):
    __tablename__ = "ticket_tags"
    __table_args__ = (Index("ix_ticket_tags_tag", "tag", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(80), primary_key=True)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # Idempotency: one row per post per brand account, however often it arrives.
        UniqueConstraint("channel_account_id", "platform_message_id"),
        Index("ix_messages_ticket_created", "ticket_id", "created_at", "id"),
        # Threading looks ids up for a whole batch at once, across accounts.
        Index("ix_messages_platform_id", "platform_message_id", "channel_account_id"),
        Index("ix_messages_reply_to", "reply_to_platform_id", "channel_account_id"),
        Index("ix_messages_conversation", "conversation_id", "channel_account_id"),
        Index("ix_messages_triage_pending", "triage_pending", "id"),
        # Search (store/search.py, migration 0020; SQLite uses the FTS5 table messages_fts).
        Index(
            "ix_messages_search",
            text("to_tsvector('simple', coalesce(subject, '') || ' ' || body)"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
        Index("ix_messages_search_ticket", "id", "ticket_id").ddl_if(dialect="sqlite"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="SET NULL"), default=None
    )
    platform: Mapped[str | None] = mapped_column(String(20), default=None)
    direction: Mapped[str] = mapped_column(String(10))
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    platform_message_id: Mapped[str | None] = mapped_column(String(320), default=None)
    reply_to_platform_id: Mapped[str | None] = mapped_column(String(320), default=None)
    conversation_id: Mapped[str | None] = mapped_column(String(320), default=None)
    author_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    author_name: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str | None] = mapped_column(String(300), default=None)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    received_at: Mapped[datetime] = created_at_column()
    delivery_state: Mapped[str] = mapped_column(String(20), default="none")
    delivery_error: Mapped[str | None] = mapped_column(Text, default=None)
    raw_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("raw_events.id", ondelete="SET NULL"), default=None
    )
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The inline triage of a customer message (socialdesk/triage): sentiment, score,
    # intent, urgency, signals, language, topic. None for our own messages.
    triage: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # The encoder pass (triage/worker.py): True while it has yet to refine the labels,
    # its claim, and the embedding it computed (float16 multilingual-e5-small).
    triage_pending: Mapped[bool | None] = mapped_column(default=None)
    triage_claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    # When an agent hid this public comment on the network (None: visible).
    hidden_at: Mapped[datetime | None] = mapped_column(default=None)
    # Loaded on access; a conversation's listing loads them in one query (selectinload).
    attachments: Mapped[list[MessageAttachment]] = relationship(
        order_by="MessageAttachment.position", passive_deletes=True
    )


class TicketEvent(Base):
    """Append-only history of a ticket; every metric is computed from these rows."""

    __tablename__ = "ticket_events"
    __table_args__ = (
        Index("ix_ticket_events_ticket", "ticket_id", "id"),
        Index("ix_ticket_events_ws_kind_time", "workspace_id", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # Who or what acted when no user did: "customer", "pipeline", "rule:<id>", "replay".
    actor: Mapped[str] = mapped_column(String(60), default="system")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
