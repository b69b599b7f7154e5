"""report rollups: closed days' overview figures per channel, account, team, assignee

Revision ID: 0039
Revises: 0030
Create Date: 2026-12-05 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialdesk.store.db

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Frozen here: the migration must not change when the code's lists do.
COUNTS = (
    "opened",
    "solved",
    "reopened",
    "replies",
    "touches",
    "notes",
    "auto_replies",
    "answered_24h",
    "eligible_24h",
    "net_new",
    "peer",
    "csat_sum",
    "csat_count",
)
ARRAYS = ("first", "resolution", "full", "following", "handled")
UTC = socialdesk.store.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_rollups",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id", ondelete="CASCADE")),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("grain", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        *(sa.Column(f"{name}_values", sa.LargeBinary(), nullable=False) for name in ARRAYS),
    )
    op.create_index(
        "ix_report_rollups_ws_grain_day", "report_rollups", ["workspace_id", "grain", "day"]
    )
    op.create_table(
        "report_rollup_days",
        sa.Column(
            "workspace_id",
            BigId,
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("computed_at", UTC, nullable=False),
        sa.Column("exact_until", UTC, nullable=True),
    )
    op.create_table(
        "report_rollup_state",
        sa.Column(
            "workspace_id",
            BigId,
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("last_event_id", BigId, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_rollup_state")
    op.drop_table("report_rollup_days")
    op.drop_index("ix_report_rollups_ws_grain_day", table_name="report_rollups")
    op.drop_table("report_rollups")
