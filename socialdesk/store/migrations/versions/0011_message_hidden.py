"""when an agent hid a customer's public comment on the network

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 18:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialdesk.store.db import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("hidden_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    # Batch mode: SQLite rebuilds the table where it cannot drop a column in place.
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("hidden_at")
