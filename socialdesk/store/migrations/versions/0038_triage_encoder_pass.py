"""triage encoder pass: which messages wait for it, its claim, their embeddings

Revision ID: 0038
Revises: 0030
Create Date: 2026-12-05 22:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialdesk.store.db import UTCDateTime

revision = "0038"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # True while the encoder pass has yet to refine the inline labels; NULL once done (or
    # never needed), so the index holds little more than the backlog.
    op.add_column("messages", sa.Column("triage_pending", sa.Boolean(), nullable=True))
    # A worker's claim on the message (several worker processes never embed it twice).
    op.add_column("messages", sa.Column("triage_claimed_until", UTCDateTime(), nullable=True))
    # multilingual-e5-small, float16, 384 values: reusable for similarity features.
    op.add_column("messages", sa.Column("embedding", sa.LargeBinary(), nullable=True))
    op.create_index("ix_messages_triage_pending", "messages", ["triage_pending", "id"])
    op.execute("UPDATE messages SET triage_pending = true WHERE triage IS NOT NULL")


def downgrade() -> None:
    op.drop_index("ix_messages_triage_pending", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("embedding")
        batch.drop_column("triage_claimed_until")
        batch.drop_column("triage_pending")
