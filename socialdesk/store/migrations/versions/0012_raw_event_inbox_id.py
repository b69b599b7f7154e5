"""which inbox-spool delivery a raw event was moved from (SQLite's webhook side file)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("raw_events", sa.Column("inbox_id", sa.BigInteger(), nullable=True))
    op.create_index("ux_raw_events_inbox_id", "raw_events", ["inbox_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_raw_events_inbox_id", table_name="raw_events")
    # Batch mode: SQLite rebuilds the table where it cannot drop a column in place.
    with op.batch_alter_table("raw_events") as batch:
        batch.drop_column("inbox_id")
