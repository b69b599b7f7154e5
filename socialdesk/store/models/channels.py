"""Connected brand accounts and the raw inbound events they deliver."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.store.models.base import Base, BigId, created_at_column


class ChannelAccount(Base):
    __tablename__ = "channel_accounts"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(320))
    external_id: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    # Fernet ciphertext of a JSON object; never returned by the API, never logged.
    secrets_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    poll_cursor: Mapped[str | None] = mapped_column(Text, default=None)
    last_polled_at: Mapped[datetime | None] = mapped_column(default=None)
    # The network's last rate-limit answer: {"limit", "remaining", "reset_at"}.
    rate_limit: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The last live check of the credentials (actions/channel_check.py): state, what the
    # network says the token belongs to, when; never the credential itself.
    credential_check: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_received_at: Mapped[datetime | None] = mapped_column(default=None)
    last_sent_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = created_at_column()


class RawEvent(Base):
    """Every inbound delivery exactly as it arrived, stored before any processing.

    A failed one keeps its reason in ``error`` so it can be inspected and retried
    (``status = 'failed'``). A transient failure (connection lost, lock timeout) leaves
    it ``pending`` with ``attempts`` counted, the last reason in ``error`` and
    ``next_attempt_at`` for the backoff.
    """

    __tablename__ = "raw_events"
    __table_args__ = (
        Index("ix_raw_events_status_id", "status", "id"),
        Index("ux_raw_events_inbox_id", "inbox_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    channel_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="SET NULL"), default=None
    )
    received_at: Mapped[datetime] = created_at_column()
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The delivery's id in the SQLite inbox spool it came through, if any: moving it
    # twice after a crash finds this taken and moves nothing.
    inbox_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # Not before this time (backoff after a transient failure); None: at once.
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    # A refused event of a delivery whose neighbours were read is kept as a raw event of
    # its own (a body with only that event); this is the delivery it came from.
    split_from_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
