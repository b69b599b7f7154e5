"""What several server and worker processes share for live updates: the feed of live
events (so a change committed in one process reaches inbox pages served by another) and
who is on which ticket right now (collision warnings)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.store.models.base import Base, BigId, created_at_column


class LiveFeedEntry(Base):
    """One live event, written in the transaction that caused it; kept for minutes."""

    __tablename__ = "live_feed"
    __table_args__ = (Index("ix_live_feed_created", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The process that committed it, which has already published it to its own pages.
    origin: Mapped[str] = mapped_column(String(80))
    workspace_id: Mapped[int | None] = mapped_column(default=None)
    kind: Mapped[str] = mapped_column(String(60))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created_at_column()


class TicketPresence(Base):
    """A user with a ticket open (and maybe typing); a row older than its TTL is gone."""

    __tablename__ = "ticket_presence"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(String(200))
    seen_at: Mapped[datetime]
    typing_until: Mapped[datetime | None] = mapped_column(default=None)
