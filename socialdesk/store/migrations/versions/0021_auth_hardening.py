"""auth hardening: one sign-in throttle for the web login and the token endpoint (per
account and per client address), API tokens with a name

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialdesk.store.db

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_throttles",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", socialdesk.store.db.UTCDateTime(), nullable=False),
        sa.Column("locked_until", socialdesk.store.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_auth_throttles")),
    )
    # The web login's per-address lockout moved into auth_throttles (key "account:<email>").
    op.drop_table("login_failures")
    op.add_column(
        "api_tokens", sa.Column("name", sa.String(length=100), nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("name")
    op.create_table(
        "login_failures",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", socialdesk.store.db.UTCDateTime(), nullable=False),
        sa.Column("locked_until", socialdesk.store.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_login_failures")),
    )
    op.drop_table("auth_throttles")
