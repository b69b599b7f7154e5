"""index for the inbox's "most urgent" sort

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 17:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_tickets_ws_priority_awaiting",
        "tickets",
        ["workspace_id", "priority", "awaiting_since", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_ws_priority_awaiting", table_name="tickets")
