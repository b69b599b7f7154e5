"""message_attachments: the stored copy of a fetched file (key, size, sha256) and the
fetch worker's attempts

Revision ID: 0034
Revises: 0030
Create Date: 2026-12-05 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialdesk.store.db import UTCDateTime

revision = "0034"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_attachments") as batch:
        batch.add_column(sa.Column("stored_key", sa.String(300), nullable=True))
        batch.add_column(sa.Column("stored_size", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("stored_mime_type", sa.String(100), nullable=True))
        batch.add_column(sa.Column("fetched_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("fetch_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("next_fetch_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("fetch_error", sa.String(300), nullable=True))
    # The fetch worker's queue: rows with a link, nothing stored, not given up on.
    op.create_index(
        "ix_message_attachments_to_fetch",
        "message_attachments",
        ["next_fetch_at"],
        sqlite_where=sa.text("stored_key IS NULL AND fetch_failed_at IS NULL"),
        postgresql_where=sa.text("stored_key IS NULL AND fetch_failed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_message_attachments_to_fetch", table_name="message_attachments")
    with op.batch_alter_table("message_attachments") as batch:
        for column in (
            "fetch_error",
            "next_fetch_at",
            "fetch_attempts",
            "fetched_at",
            "stored_mime_type",
            "sha256",
            "stored_size",
            "stored_key",
        ):
            batch.drop_column(column)
