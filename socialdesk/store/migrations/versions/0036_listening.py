"""listening: saved searches and the mentions they find

Revision ID: 0036
Revises: 0030
Create Date: 2026-12-05 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialdesk.store.db import UTCDateTime

revision = "0036"
down_revision = "0034"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "listening_searches",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "workspace_id",
            BigId,
            sa.ForeignKey(
                "workspaces.id",
                ondelete="CASCADE",
                name="fk_listening_searches_workspace_id_workspaces",
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("hashtags", sa.JSON(), nullable=False),
        sa.Column("brands", sa.JSON(), nullable=False),
        sa.Column("misspellings", sa.JSON(), nullable=False),
        sa.Column("exclusions", sa.JSON(), nullable=False),
        sa.Column("account_ids", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("cursors", sa.JSON(), nullable=False),
        sa.Column("rate_limited_until", sa.JSON(), nullable=False),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_listening_searches"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_listening_searches_workspace_id"),
    )
    op.create_table(
        "listening_mentions",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "workspace_id",
            BigId,
            sa.ForeignKey(
                "workspaces.id",
                ondelete="CASCADE",
                name="fk_listening_mentions_workspace_id_workspaces",
            ),
            nullable=False,
        ),
        sa.Column(
            "search_id",
            BigId,
            sa.ForeignKey(
                "listening_searches.id",
                ondelete="SET NULL",
                name="fk_listening_mentions_search_id_listening_searches",
            ),
            nullable=True,
        ),
        sa.Column(
            "channel_account_id",
            BigId,
            sa.ForeignKey(
                "channel_accounts.id",
                ondelete="CASCADE",
                name="fk_listening_mentions_channel_account_id_channel_accounts",
            ),
            nullable=False,
        ),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("platform_post_id", sa.String(300), nullable=False),
        sa.Column("author_id", sa.String(300), nullable=False),
        sa.Column("author_handle", sa.String(300), nullable=True),
        sa.Column("author_name", sa.String(300), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reply_to_id", sa.String(300), nullable=True),
        sa.Column("posted_at", UTCDateTime(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("sentiment", sa.String(10), nullable=True),
        sa.Column("sentiment_score", sa.Float(), nullable=True),
        sa.Column("intent", sa.String(20), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column(
            "ticket_id",
            BigId,
            sa.ForeignKey(
                "tickets.id", ondelete="SET NULL", name="fk_listening_mentions_ticket_id_tickets"
            ),
            nullable=True,
        ),
        sa.Column(
            "handled_by_user_id",
            BigId,
            sa.ForeignKey(
                "users.id",
                ondelete="SET NULL",
                name="fk_listening_mentions_handled_by_user_id_users",
            ),
            nullable=True,
        ),
        sa.Column("handled_at", UTCDateTime(), nullable=True),
        sa.Column("found_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_listening_mentions"),
        sa.UniqueConstraint(
            "workspace_id",
            "platform",
            "platform_post_id",
            name="uq_listening_mentions_workspace_id",
        ),
    )
    op.create_index(
        "ix_listening_mentions_ws_status", "listening_mentions", ["workspace_id", "status", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_listening_mentions_ws_status", table_name="listening_mentions")
    op.drop_table("listening_mentions")
    op.drop_table("listening_searches")
