"""canned answers: a category, how often agents used each and when last

Revision ID: 0040
Revises: 0030
Create Date: 2026-12-05 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("canned_responses") as batch:
        batch.add_column(sa.Column("category", sa.String(80), nullable=False, server_default=""))
        # Counted by the reply action when a sent reply says it used the canned answer.
        batch.add_column(sa.Column("usage_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("canned_responses") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("usage_count")
        batch.drop_column("category")
