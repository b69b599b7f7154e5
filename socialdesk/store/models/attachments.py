"""Attachments of messages: images, videos, files, stickers, shared posts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.store.models.base import Base, BigId, created_at_column


class MessageAttachment(Base):
    """One attachment of a message, in the order the network listed them (``position``).

    ``platform_url`` is the network's link, which may expire (Meta CDN); ``expires_at``
    is when, if the payload said, and ``fetch_failed_at`` when fetching it failed."""

    __tablename__ = "message_attachments"
    __table_args__ = (
        Index("ix_message_attachments_message", "message_id", "position"),
        Index(
            "ix_message_attachments_to_fetch",
            "next_fetch_at",
            sqlite_where=text("stored_key IS NULL AND fetch_failed_at IS NULL"),
            postgresql_where=text("stored_key IS NULL AND fetch_failed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    mime_type: Mapped[str | None] = mapped_column(String(100), default=None)
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    name: Mapped[str | None] = mapped_column(String(300), default=None)
    platform_url: Mapped[str | None] = mapped_column(Text, default=None)
    thumbnail_url: Mapped[str | None] = mapped_column(Text, default=None)
    caption: Mapped[str | None] = mapped_column(Text, default=None)
    platform_media_id: Mapped[str | None] = mapped_column(String(320), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    fetch_failed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The stored copy (pipeline/attachment_fetch.py): its key in the attachment storage
    # (store/file_storage.py), its size, SHA-256 and the type its bytes show.
    stored_key: Mapped[str | None] = mapped_column(String(300), default=None)
    stored_size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    stored_mime_type: Mapped[str | None] = mapped_column(String(100), default=None)
    fetched_at: Mapped[datetime | None] = mapped_column(default=None)
    fetch_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_fetch_at: Mapped[datetime | None] = mapped_column(default=None)
    fetch_error: Mapped[str | None] = mapped_column(String(300), default=None)
    # A reply's image: the description the agent gave, sent where the network takes one.
    alt_text: Mapped[str | None] = mapped_column(Text, default=None)


class Upload(Base):
    """An image an agent uploaded to attach to a reply (``POST /api/v1/uploads``).

    The file is in the attachment storage under ``stored_key`` from the moment it is
    uploaded; a reply that names it copies it into a ``message_attachments`` row of the
    outbound message and sets ``message_id``, so one upload goes out with one reply.
    A reply waiting for a lead's approval holds its uploads by ``draft_id`` (in the order
    named, ``draft_position``); a rejected draft lets them go again. ``alt_text``: the
    image's description for people who cannot see it (checked per network on the reply)."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    stored_key: Mapped[str] = mapped_column(String(300))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = created_at_column()
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    alt_text: Mapped[str | None] = mapped_column(Text, default=None)
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("approval_drafts.id", ondelete="SET NULL"), default=None, index=True
    )
    draft_position: Mapped[int | None] = mapped_column(default=None)
