"""SLA due-time index (tickets.next_due_at), at-risk index, e-mail notification outbox

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-23 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialdesk.store.db

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

# Same expression as socialdesk.store.models.tickets.NEXT_DUE_SQL (copied: a migration
# must not change when the model does).
NEXT_DUE_SQL = (
    "CASE WHEN first_response_due_at IS NOT NULL"
    " AND (next_response_due_at IS NULL OR first_response_due_at <= next_response_due_at)"
    " AND (resolution_due_at IS NULL OR first_response_due_at <= resolution_due_at)"
    " THEN first_response_due_at"
    " WHEN next_response_due_at IS NOT NULL"
    " AND (resolution_due_at IS NULL OR next_response_due_at <= resolution_due_at)"
    " THEN next_response_due_at"
    " ELSE resolution_due_at END"
)

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # A generated column fills itself for existing rows (the backfill) and stays right
    # on every later write. PostgreSQL 12+ stores it; SQLite can only add a VIRTUAL one
    # with ALTER TABLE, which it can still index.
    stored = op.get_bind().dialect.name != "sqlite"
    op.add_column(
        "tickets",
        sa.Column(
            "next_due_at",
            socialdesk.store.db.UTCDateTime(),
            sa.Computed(NEXT_DUE_SQL, persisted=stored),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_tickets_ws_status_due",
        "tickets",
        ["workspace_id", "status", "next_due_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_sla_clocks_ws_status_warning",
        "sla_clocks",
        ["workspace_id", "status", "warning_at", "ticket_id"],
        unique=False,
    )
    op.create_table(
        "notification_outbox",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("ticket_id", _ID, nullable=True),
        sa.Column("notification_id", _ID, nullable=True),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", socialdesk.store.db.UTCDateTime(), nullable=False),
        sa.Column("claimed_until", socialdesk.store.db.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", socialdesk.store.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", socialdesk.store.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_notification_outbox_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_notification_outbox_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_outbox_notification_id_notifications"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
    )
    op.create_index(
        "ix_notification_outbox_state_due",
        "notification_outbox",
        ["state", "next_attempt_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_notification_outbox_ws", "notification_outbox", ["workspace_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_notification_outbox_ws", table_name="notification_outbox")
    op.drop_index("ix_notification_outbox_state_due", table_name="notification_outbox")
    op.drop_table("notification_outbox")
    op.drop_index("ix_sla_clocks_ws_status_warning", table_name="sla_clocks")
    op.drop_index("ix_tickets_ws_status_due", table_name="tickets")
    op.drop_column("tickets", "next_due_at")
