"""tickets with a warned SLA clock or an overdue promise, counted by triggers

Revision ID: 0046
Revises: 0041
Create Date: 2026-12-06 05:00:00

The "SLA at risk" and "Promises due" counts depend on the clock, so no trigger can keep
them alone; but the flags the scans set can be counted. ``flagged_tickets`` holds, per
kind and ticket, how many of its rows are flagged (a running clock marked ``warned``;
an open promise marked ``overdue_at``), and exists only while that is above zero;
``flagged_ticket_counts`` holds, per kind and workspace, how many such rows exist: the
number of distinct flagged tickets. The readers add the few rows whose instant passed
since the last scan (sla/views.py ``at_risk_count``, repos/tickets.py
``due_promise_count``).

Every change is +1 or -1 on one row (commutative), so on PostgreSQL two transactions
flagging clocks of the same ticket serialise on that ticket's row and the count of
distinct tickets stays exact; a multi-row statement's row triggers may fire in any order
for the same reason. The fill inserts ``flagged_tickets`` after its triggers exist, so
they fill ``flagged_ticket_counts``.

A later migration that rebuilds ``sla_clocks`` or ``follow_ups`` with
``batch_alter_table`` on SQLite drops these triggers with the old table and must create
them again (``sqlite_statements``) and refill (empty both tables, then ``fill``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0046"
down_revision = "0041"
branch_labels = None
depends_on = None

# kind -> (source table, the flagged condition with "{r}" for NEW/OLD, watched columns)
SOURCES = {
    "sla_warned": (
        "sla_clocks",
        "{r}.status = 'running' AND {r}.warned",
        "status, warned, ticket_id, workspace_id",
    ),
    "promise_overdue": (
        "follow_ups",
        "{r}.status = 'open' AND {r}.overdue_at IS NOT NULL",
        "status, overdue_at, ticket_id, workspace_id",
    ),
}


def _enter(kind: str, row: str) -> str:
    return (
        "INSERT INTO flagged_tickets (kind, ticket_id, workspace_id, row_count) "
        f"VALUES ('{kind}', {row}.ticket_id, {row}.workspace_id, 1) "
        "ON CONFLICT (kind, ticket_id) DO UPDATE "
        "SET row_count = flagged_tickets.row_count + 1;"
    )


def _leave(kind: str, row: str) -> str:
    # An update, not an upsert: when a test empties the tables the row may be gone
    # already, and a decrement must not invent one.
    where = f"kind = '{kind}' AND ticket_id = {row}.ticket_id"
    return (
        f"UPDATE flagged_tickets SET row_count = row_count - 1 WHERE {where}; "
        f"DELETE FROM flagged_tickets WHERE {where} AND row_count <= 0;"
    )


_COUNT_ADD = (
    "INSERT INTO flagged_ticket_counts (kind, workspace_id, ticket_count) "
    "VALUES (NEW.kind, NEW.workspace_id, 1) ON CONFLICT (kind, workspace_id) DO UPDATE "
    "SET ticket_count = flagged_ticket_counts.ticket_count + 1;"
)
_COUNT_SUBTRACT = (
    "UPDATE flagged_ticket_counts SET ticket_count = ticket_count - 1 "
    "WHERE kind = OLD.kind AND workspace_id = OLD.workspace_id;"
)


def _flagged(kind: str, row: str) -> str:
    condition = SOURCES[kind][1].format(r=row)
    return f"COALESCE({condition}, false)"


def _moved(row_a: str, row_b: str) -> str:
    return (
        f"({row_a}.ticket_id IS NOT {row_b}.ticket_id "
        f"OR {row_a}.workspace_id IS NOT {row_b}.workspace_id)"
    )


def sqlite_statements() -> list[str]:
    statements = [
        f"CREATE TRIGGER flagged_tickets_ai AFTER INSERT ON flagged_tickets BEGIN {_COUNT_ADD} END",
        "CREATE TRIGGER flagged_tickets_ad AFTER DELETE ON flagged_tickets "
        f"BEGIN {_COUNT_SUBTRACT} END",
    ]
    for kind, (table, _, watched) in SOURCES.items():
        old, new = _flagged(kind, "OLD"), _flagged(kind, "NEW")
        moved = _moved("OLD", "NEW")
        statements += [
            f"CREATE TRIGGER {table}_flag_ai AFTER INSERT ON {table} WHEN {new} "
            f"BEGIN {_enter(kind, 'NEW')} END",
            f"CREATE TRIGGER {table}_flag_ad AFTER DELETE ON {table} WHEN {old} "
            f"BEGIN {_leave(kind, 'OLD')} END",
            f"CREATE TRIGGER {table}_flag_au_leave AFTER UPDATE OF {watched} ON {table} "
            f"WHEN {old} AND (NOT {new} OR {moved}) BEGIN {_leave(kind, 'OLD')} END",
            f"CREATE TRIGGER {table}_flag_au_enter AFTER UPDATE OF {watched} ON {table} "
            f"WHEN {new} AND (NOT {old} OR {moved}) BEGIN {_enter(kind, 'NEW')} END",
        ]
    return statements


def postgresql_statements() -> list[str]:
    statements = [
        f"""CREATE FUNCTION flagged_tickets_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {_COUNT_ADD}
  ELSE
    {_COUNT_SUBTRACT}
  END IF;
  RETURN NULL;
END $$""",
        "CREATE TRIGGER flagged_tickets_count AFTER INSERT OR DELETE ON flagged_tickets "
        "FOR EACH ROW EXECUTE FUNCTION flagged_tickets_count()",
    ]
    for kind, (table, _, watched) in SOURCES.items():
        old, new = _flagged(kind, "OLD"), _flagged(kind, "NEW")
        moved = _moved("OLD", "NEW").replace("IS NOT", "IS DISTINCT FROM")
        statements += [
            f"""CREATE FUNCTION {table}_flag() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF {new} THEN {_enter(kind, "NEW")} END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF {old} THEN {_leave(kind, "OLD")} END IF;
  ELSE
    IF {old} AND (NOT {new} OR {moved}) THEN {_leave(kind, "OLD")} END IF;
    IF {new} AND (NOT {old} OR {moved}) THEN {_enter(kind, "NEW")} END IF;
  END IF;
  RETURN NULL;
END $$""",
            f"CREATE TRIGGER {table}_flag AFTER INSERT OR DELETE OR UPDATE OF {watched} "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_flag()",
        ]
    return statements


def fill(kind: str) -> str:
    table, condition, _ = SOURCES[kind]
    return (
        "INSERT INTO flagged_tickets (kind, ticket_id, workspace_id, row_count) "
        f"SELECT '{kind}', ticket_id, min(workspace_id), count(*) FROM {table} "
        f"WHERE {condition.format(r=table)} GROUP BY ticket_id"
    )


def upgrade() -> None:
    op.create_table(
        "flagged_tickets",
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("ticket_id", sa.BigInteger(), primary_key=True),
        sa.Column("workspace_id", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "flagged_ticket_counts",
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("workspace_id", sa.BigInteger(), primary_key=True),
        sa.Column("ticket_count", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_sla_clocks_ws_status_warned",
        "sla_clocks",
        ["workspace_id", "status", "warned", "warning_at", "ticket_id"],
    )
    op.create_index(
        "ix_follow_ups_ws_status_overdue",
        "follow_ups",
        ["workspace_id", "status", "overdue_at", "due_at", "ticket_id"],
    )
    op.create_index("ix_follow_ups_ticket_status", "follow_ups", ["ticket_id", "status"])
    dialect = op.get_bind().dialect.name
    statements = postgresql_statements() if dialect == "postgresql" else sqlite_statements()
    for statement in statements:
        op.execute(statement)
    for kind in SOURCES:
        op.execute(fill(kind))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS flagged_tickets_count ON flagged_tickets")
        op.execute("DROP FUNCTION IF EXISTS flagged_tickets_count()")
        for table, _, _ in SOURCES.values():
            op.execute(f"DROP TRIGGER IF EXISTS {table}_flag ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_flag()")
    else:
        for name in ("flagged_tickets_ai", "flagged_tickets_ad"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for table, _, _ in SOURCES.values():
            for suffix in ("ai", "ad", "au_leave", "au_enter"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_flag_{suffix}")
    op.drop_index("ix_follow_ups_ticket_status", table_name="follow_ups")
    op.drop_index("ix_follow_ups_ws_status_overdue", table_name="follow_ups")
    op.drop_index("ix_sla_clocks_ws_status_warned", table_name="sla_clocks")
    op.drop_table("flagged_ticket_counts")
    op.drop_table("flagged_tickets")
