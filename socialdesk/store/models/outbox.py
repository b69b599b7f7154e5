"""The transactional outbox: one row per outbound message to deliver.

Written in the same transaction as the reply, so a reply can neither be lost nor be
sent without a record. The delivery worker claims rows, calls the connector, and
records the outcome on both the row and the message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.store.models.base import Base, BigId, created_at_column


class OutboxEntry(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    channel_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="SET NULL"), default=None
    )
    # public_reply, direct_message or email (channels.base.ReplyKind).
    kind: Mapped[str] = mapped_column(String(30))
    # queued → sending → sent | failed; "sending" left behind by a crash is resolved by
    # looking the post up on the network before any retry.
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
