"""triage: each customer message's labels, the ticket's latest customer values

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 17:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One JSON object per message (sentiment, score, intent, urgency, signals, language,
    # topic): read with the message, never filtered on, so one column is enough.
    op.add_column("messages", sa.Column("triage", sa.JSON(), nullable=True))
    # The ticket carries its latest customer message's values, filtered and sorted on.
    # (tickets.sentiment holds the score and tickets.intent/language exist since 0001.)
    op.add_column("tickets", sa.Column("sentiment_label", sa.String(10), nullable=True))
    op.add_column("tickets", sa.Column("urgency", sa.Integer(), nullable=True))
    op.add_column("tickets", sa.Column("topic", sa.String(80), nullable=True))
    # Labels an agent set by hand ({"intent": "praise"}): the pipeline never overrides them.
    op.add_column("tickets", sa.Column("triage_manual", sa.JSON(), nullable=True))
    op.create_index("ix_tickets_workspace_urgency", "tickets", ["workspace_id", "urgency"])


def downgrade() -> None:
    op.drop_index("ix_tickets_workspace_urgency", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("triage_manual")
        batch.drop_column("topic")
        batch.drop_column("urgency")
        batch.drop_column("sentiment_label")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("triage")
