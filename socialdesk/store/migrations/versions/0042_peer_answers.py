"""peer answers: a fan's public reply that answered the ticket's customer

Revision ID: 0042
Revises: 0043
Create Date: 2026-12-06 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialdesk.store.db

revision = "0042"
down_revision = "0043"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = socialdesk.store.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "peer_answers",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "workspace_id",
            BigId,
            sa.ForeignKey(
                "workspaces.id", ondelete="CASCADE", name="fk_peer_answers_workspace_id_workspaces"
            ),
            nullable=False,
        ),
        sa.Column(
            "ticket_id",
            BigId,
            sa.ForeignKey(
                "tickets.id", ondelete="CASCADE", name="fk_peer_answers_ticket_id_tickets"
            ),
            nullable=False,
        ),
        sa.Column(
            "message_id",
            BigId,
            sa.ForeignKey(
                "messages.id", ondelete="CASCADE", name="fk_peer_answers_message_id_messages"
            ),
            nullable=False,
        ),
        sa.Column(
            "question_message_id",
            BigId,
            sa.ForeignKey(
                "messages.id",
                ondelete="SET NULL",
                name="fk_peer_answers_question_message_id_messages",
            ),
            nullable=True,
        ),
        sa.Column(
            "fan_contact_id",
            BigId,
            sa.ForeignKey(
                "contacts.id", ondelete="SET NULL", name="fk_peer_answers_fan_contact_id_contacts"
            ),
            nullable=True,
        ),
        sa.Column("fan_handle", sa.String(255), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("detected_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_peer_answers"),
        sa.UniqueConstraint("message_id", name="uq_peer_answers_message_id"),
    )
    op.create_index("ix_peer_answers_ws_detected", "peer_answers", ["workspace_id", "detected_at"])
    op.create_index("ix_peer_answers_ticket", "peer_answers", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_peer_answers_ticket", table_name="peer_answers")
    op.drop_index("ix_peer_answers_ws_detected", table_name="peer_answers")
    op.drop_table("peer_answers")
