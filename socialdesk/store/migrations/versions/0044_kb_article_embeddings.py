"""knowledge-base article embeddings for the hybrid search

Revision ID: 0044
Revises: 0045
Create Date: 2026-12-06 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0044"
down_revision = "0045"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # multilingual-e5-small, float16, 384 values (the triage encoder's `embed`), computed
    # when an article is written; NULL until then or while the encoder is off, and
    # `socialdesk kb embed` fills the NULLs.
    op.add_column("kb_articles", sa.Column("embedding", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kb_articles") as batch:
        batch.drop_column("embedding")
