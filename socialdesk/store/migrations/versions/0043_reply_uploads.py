"""uploads: images agents upload to attach to their replies

Revision ID: 0043
Revises: 0044
Create Date: 2026-12-06 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialdesk.store.db import UTCDateTime

revision = "0043"
down_revision = "0044"
branch_labels = None
depends_on = None


_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column(
            "workspace_id",
            _BIG_ID,
            sa.ForeignKey(
                "workspaces.id", ondelete="CASCADE", name="fk_uploads_workspace_id_workspaces"
            ),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            _BIG_ID,
            sa.ForeignKey("users.id", ondelete="SET NULL", name="fk_uploads_user_id_users"),
        ),
        sa.Column("stored_key", sa.String(300), nullable=False),
        sa.Column("mime_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column(
            "message_id",
            _BIG_ID,
            sa.ForeignKey(
                "messages.id", ondelete="SET NULL", name="fk_uploads_message_id_messages"
            ),
        ),
    )
    op.create_index("ix_uploads_workspace_id", "uploads", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_uploads_workspace_id", table_name="uploads")
    op.drop_table("uploads")
