"""crisis radar: negative posts indexed per account, topic and bucket; incidents

Revision ID: 0041
Revises: 0042
Create Date: 2026-12-06 01:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialdesk.store.db

revision = "0041"
down_revision = "0042"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = socialdesk.store.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "radar_posts",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "workspace_id",
            sa.Integer(),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("channel_account_id", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.String(80), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("posted_at", UTC, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ix_radar_posts_ws_bucket",
        "radar_posts",
        ["workspace_id", "bucket", "channel_account_id", "topic"],
    )
    op.create_index("ix_radar_posts_message", "radar_posts", ["message_id"], unique=True)
    op.create_table(
        "radar_state",
        sa.Column(
            "workspace_id",
            sa.Integer(),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("last_message_id", sa.BigInteger(), nullable=False),
        sa.Column("next_bucket", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "incidents",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "workspace_id",
            sa.Integer(),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "channel_account_id",
            sa.Integer(),
            sa.ForeignKey("channel_accounts.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("topic", sa.String(80), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("raised_at", UTC, nullable=False),
        sa.Column("peak_at", UTC, nullable=False),
        sa.Column("ended_at", UTC, nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("peak_count", sa.Integer(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("surprise", sa.Float(), nullable=False),
        sa.Column(
            "closed_by_user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.UniqueConstraint(
            "workspace_id", "channel_account_id", "topic", "started_at", name="uq_incidents_key"
        ),
    )
    op.create_index("ix_incidents_ws_started", "incidents", ["workspace_id", "started_at"])
    op.create_table(
        "incident_tickets",
        sa.Column(
            "incident_id",
            BigId,
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "ticket_id", BigId, sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
        ),
    )
    op.create_index("ix_incident_tickets_ticket", "incident_tickets", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("incident_tickets")
    op.drop_table("incidents")
    op.drop_table("radar_state")
    op.drop_table("radar_posts")
