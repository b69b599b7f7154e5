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
    # The view lists by awaiting_since: a ticket needing a reply always has one (the
    # pipeline sets both); fill any older row that does not, from the customer's last word.
    op.execute(
        sa.text(
            "UPDATE tickets SET awaiting_since = COALESCE(last_inbound_at, last_message_at) "
            "WHERE needs_reply AND awaiting_since IS NULL"
        )
    )
    op.create_index(
        "ix_tickets_ws_needs_reply",
        "tickets",
        ["workspace_id", "needs_reply", "awaiting_since", "id", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_ws_needs_reply", table_name="tickets")
    with op.batch_alter_table("follow_ups") as batch:
        batch.drop_column("overdue_at")
