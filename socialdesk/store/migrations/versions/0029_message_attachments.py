"""message_attachments: what a message carries besides text

Revision ID: 0029
Revises: 0032
Create Date: 2026-12-05 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialdesk.store.db import UTCDateTime

revision = "0029"
down_revision = "0032"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "message_attachments",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column(
            "message_id",
            _BIG_ID,
            sa.ForeignKey(
                "messages.id",
                ondelete="CASCADE",
                name="fk_message_attachments_message_id_messages",
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("mime_type", sa.String(100), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("platform_url", sa.Text(), nullable=True),
        sa.Column("thumbnail_url", sa.Text(), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("platform_media_id", sa.String(320), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("fetch_failed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_message_attachments"),
    )
    op.create_index(
        "ix_message_attachments_message", "message_attachments", ["message_id", "position"]
    )


def downgrade() -> None:
    op.drop_index("ix_message_attachments_message", table_name="message_attachments")
    op.drop_table("message_attachments")
