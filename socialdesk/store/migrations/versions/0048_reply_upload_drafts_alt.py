"""uploads wait with an approval draft (draft_id, draft_position) and carry alt text;
an outbound image attachment keeps its alt text for the connector

Revision ID: 0048
Revises: 0046
Create Date: 2026-12-06 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0048"
down_revision = "0046"
branch_labels = None
depends_on = None


_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # uploads is a small table without triggers: a batch rebuild on SQLite is safe.
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("alt_text", sa.Text()))
        batch.add_column(
            sa.Column(
                "draft_id",
                _BIG_ID,
                sa.ForeignKey(
                    "approval_drafts.id",
                    ondelete="SET NULL",
                    name="fk_uploads_draft_id_approval_drafts",
                ),
            )
        )
        batch.add_column(sa.Column("draft_position", sa.Integer()))
    op.create_index("ix_uploads_draft_id", "uploads", ["draft_id"])
    op.add_column("message_attachments", sa.Column("alt_text", sa.Text()))


def downgrade() -> None:
    op.drop_column("message_attachments", "alt_text")
    op.drop_index("ix_uploads_draft_id", table_name="uploads")
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("draft_position")
        batch.drop_column("draft_id")
        batch.drop_column("alt_text")
