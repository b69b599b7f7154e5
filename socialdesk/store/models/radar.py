"""The crisis radar (``socialdesk/radar/``): negative inbound posts counted per channel
account and topic, and the incidents raised when a key's rate jumps above its own
recent baseline.

``radar_posts`` is the radar's own index of negative inbound posts: one narrow row per
post with its 15-minute bucket number, so the periodic pass counts 48 hours of posts by
(account, topic, bucket) from one covering index instead of reading message rows and
their JSON triage. ``radar_state`` holds, per workspace, the last message the radar has
indexed and the time up to which it has evaluated.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.store.models.base import Base, BigId


class RadarPost(Base):
    __tablename__ = "radar_posts"
    __table_args__ = (
        # The periodic pass: one workspace's buckets in a range, grouped by key.
        Index("ix_radar_posts_ws_bucket", "workspace_id", "bucket", "channel_account_id", "topic"),
        Index("ix_radar_posts_message", "message_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_account_id: Mapped[int] = mapped_column(BigInteger)
    topic: Mapped[str] = mapped_column(String(80))
    # Seconds since the epoch // bucket length (radar/detection.py BUCKET_SECONDS).
    bucket: Mapped[int] = mapped_column(BigInteger)
    posted_at: Mapped[datetime]
    message_id: Mapped[int] = mapped_column(BigInteger)
    ticket_id: Mapped[int] = mapped_column(BigInteger)


class RadarState(Base):
    __tablename__ = "radar_state"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    last_message_id: Mapped[int] = mapped_column(BigInteger, default=0)
    # Buckets before this one are evaluated; a post indexed later into an earlier bucket
    # (a replay) moves it back.
    next_bucket: Mapped[int | None] = mapped_column(BigInteger, default=None)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id", "channel_account_id", "topic", "started_at", name="uq_incidents_key"
        ),
        Index("ix_incidents_ws_started", "workspace_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="SET NULL"), default=None
    )
    topic: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(10), default="open")
    # When the surge's first elevated bucket began; when the radar raised it (the post
    # that crossed the threshold); its busiest bucket; when it went quiet.
    started_at: Mapped[datetime]
    raised_at: Mapped[datetime]
    peak_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    size: Mapped[int] = mapped_column(default=0)
    peak_count: Mapped[int] = mapped_column(default=0)
    baseline: Mapped[float] = mapped_column(Float, default=0.0)
    surprise: Mapped[float] = mapped_column(Float, default=0.0)
    closed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class IncidentTicket(Base):
    __tablename__ = "incident_tickets"
    __table_args__ = (Index("ix_incident_tickets_ticket", "ticket_id"),)

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
