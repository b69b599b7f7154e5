"""overdue promises are marked once (follow_ups.overdue_at); the "Needs reply" view's
index (customers waiting, longest first)

Revision ID: 0024
Revises: 0021
Create Date: 2026-12-05 08:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialdesk.store.db

revision = "0024"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "follow_ups",
        sa.Column("overdue_at", socialdesk.store.db.UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ix_tickets_ws_needs_reply",
        "tickets",
        ["workspace_id", "needs_reply", "status", "awaiting_since", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_ws_needs_reply", table_name="tickets")
    with op.batch_alter_table("follow_ups") as batch:
        batch.drop_column("overdue_at")
