"""raw events: when a transient failure may be retried, and which delivery a refused
event was split from

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialdesk.store.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "raw_events",
        sa.Column("next_attempt_at", socialdesk.store.db.UTCDateTime(), nullable=True),
    )
    op.add_column("raw_events", sa.Column("split_from_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("raw_events") as batch:
        batch.drop_column("split_from_id")
        batch.drop_column("next_attempt_at")
