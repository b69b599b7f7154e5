"""Listening: saved searches run against the networks' search APIs, and the posts they
find (mentions of the brand without a tag), kept apart from tickets until an agent or a
rule turns one into a ticket (socialdesk/listening)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.store.models.base import Base, BigId, created_at_column


class ListeningSearch(Base):
    """What to listen for (terms, hashtags, exclusions) and through which accounts.

    ``cursors`` holds, per ``"<account id>:<query key>"``, the newest post already read,
    so the next pass asks only for newer ones; ``rate_limited_until`` per account id the
    network's reset time after a 429."""

    __tablename__ = "listening_searches"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    hashtags: Mapped[list[Any]] = mapped_column(default=list)
    brands: Mapped[list[Any]] = mapped_column(default=list)
    misspellings: Mapped[list[Any]] = mapped_column(default=list)
    exclusions: Mapped[list[Any]] = mapped_column(default=list)
    account_ids: Mapped[list[Any]] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    interval_seconds: Mapped[int] = mapped_column(default=300)
    cursors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rate_limited_until: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_run_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = created_at_column()


class ListeningMention(Base):
    """One post a saved search found, once per workspace, network and post id. ``raw``
    is the network's payload as read (stored before anything is derived from it)."""

    __tablename__ = "listening_mentions"
    __table_args__ = (
        UniqueConstraint("workspace_id", "platform", "platform_post_id"),
        Index("ix_listening_mentions_ws_status", "workspace_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    search_id: Mapped[int | None] = mapped_column(
        ForeignKey("listening_searches.id", ondelete="SET NULL"), default=None
    )
    channel_account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="CASCADE")
    )
    platform: Mapped[str] = mapped_column(String(20))
    platform_post_id: Mapped[str] = mapped_column(String(300))
    author_id: Mapped[str] = mapped_column(String(300))
    author_handle: Mapped[str | None] = mapped_column(String(300), default=None)
    author_name: Mapped[str | None] = mapped_column(String(300), default=None)
    body: Mapped[str] = mapped_column(Text)
    reply_to_id: Mapped[str | None] = mapped_column(String(300), default=None)
    posted_at: Mapped[datetime]
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sentiment: Mapped[str | None] = mapped_column(String(10), default=None)
    sentiment_score: Mapped[float | None] = mapped_column(default=None)
    intent: Mapped[str | None] = mapped_column(String(20), default=None)
    # new → ticketed | dismissed
    status: Mapped[str] = mapped_column(String(12), default="new")
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), default=None
    )
    handled_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    handled_at: Mapped[datetime | None] = mapped_column(default=None)
    found_at: Mapped[datetime] = created_at_column()
