"""report rollups keep the 24-hour deadlines of unanswered tickets

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-06 05:45:00

A day folded while some of its tickets were inside their first 24 hours, unanswered,
was exact only until the first of those deadlines (``exact_until``), so yesterday was
read from raw events for most of today. The deadlines themselves are now kept, and a
report counts the ones passed at its own moment. Rows folded before keep their
``exact_until`` and are folded again when it passes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0049"
down_revision = "0048"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report_rollups") as batch:
        batch.add_column(
            sa.Column(
                "pending_values", sa.LargeBinary(), nullable=False, server_default=sa.text("''")
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("report_rollups") as batch:
        batch.drop_column("pending_values")
