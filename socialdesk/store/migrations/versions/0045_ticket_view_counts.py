"""ticket view counts kept by triggers: the inbox's counts without counting tickets

Revision ID: 0045
Revises: 0039
Create Date: 2026-12-06 02:00:00

The triggers fire for every write to ``tickets`` (Core bulk inserts included). A later
migration that rebuilds ``tickets`` with ``batch_alter_table`` on SQLite (copy, drop,
rename) drops these triggers with the old table and must create them again
(``sqlite_statements`` below) and refill the counts (``FILL``).

On PostgreSQL an update that moves a ticket between two keys touches both rows in key
order, so two transactions moving tickets in opposite directions (a reply clears
"needs reply" while a new message sets it on another ticket) cannot deadlock.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0045"
down_revision = "0039"
branch_labels = None
depends_on = None

KEY = ("workspace_id", "status", "channel_account_id", "team_id", "assignee_id", "needs_reply")


def key_values(row: str, dialect: str) -> str:
    """The counter key of a ``tickets`` row (``NEW``/``OLD`` in a trigger, or a column
    prefix ``""`` in a plain SELECT)."""
    p = f"{row}." if row else ""
    waiting = f"{p}needs_reply AND {p}awaiting_since IS NOT NULL"
    flag = (
        f"CAST(COALESCE({waiting}, false) AS integer)"
        if dialect == "postgresql"
        else f"COALESCE({waiting}, 0)"
    )
    return (
        f"{p}workspace_id, {p}status, COALESCE({p}channel_account_id, 0), "
        f"COALESCE({p}team_id, 0), COALESCE({p}assignee_id, 0), {flag}"
    )


COLUMNS = ", ".join(KEY)
ADD = (
    f"INSERT INTO ticket_view_counts ({COLUMNS}, ticket_count) VALUES ({{values}}, 1) "
    f"ON CONFLICT ({COLUMNS}) DO UPDATE SET ticket_count = ticket_view_counts.ticket_count + 1;"
)
# An update, not an upsert: when a test empties the tables the counts may already be
# gone, and a decrement must not invent a row of -1.
SUBTRACT = (
    "UPDATE ticket_view_counts SET ticket_count = ticket_count - 1 "
    f"WHERE ({COLUMNS}) = ({{values}});"
)
WATCHED = (
    "workspace_id, status, channel_account_id, team_id, assignee_id, needs_reply, awaiting_since"
)


def fill(dialect: str) -> str:
    return (
        f"INSERT INTO ticket_view_counts ({COLUMNS}, ticket_count) "
        f"SELECT {key_values('', dialect)}, count(*) FROM tickets "
        f"GROUP BY {key_values('', dialect)}"
    )


def sqlite_statements() -> list[str]:
    new, old = key_values("NEW", "sqlite"), key_values("OLD", "sqlite")
    return [
        "CREATE TRIGGER ticket_view_counts_ai AFTER INSERT ON tickets BEGIN "
        f"{ADD.format(values=new)} END",
        "CREATE TRIGGER ticket_view_counts_ad AFTER DELETE ON tickets BEGIN "
        f"{SUBTRACT.format(values=old)} END",
        f"CREATE TRIGGER ticket_view_counts_au AFTER UPDATE OF {WATCHED} ON tickets "
        f"WHEN ({old}) IS NOT ({new}) BEGIN "
        f"{SUBTRACT.format(values=old)} {ADD.format(values=new)} END",
    ]


def postgresql_statements() -> list[str]:
    new, old = key_values("NEW", "postgresql"), key_values("OLD", "postgresql")
    add, subtract = ADD.format(values=new), SUBTRACT.format(values=old)
    function = f"""
CREATE FUNCTION ticket_view_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {add}
  ELSIF TG_OP = 'DELETE' THEN
    {subtract}
  ELSIF ROW({old}) IS DISTINCT FROM ROW({new}) THEN
    IF ROW({old}) < ROW({new}) THEN
      {subtract}
      {add}
    ELSE
      {add}
      {subtract}
    END IF;
  END IF;
  RETURN NULL;
END $$"""
    return [
        function,
        "CREATE TRIGGER ticket_view_counts_track AFTER INSERT OR DELETE OR UPDATE OF "
        f"{WATCHED} ON tickets FOR EACH ROW EXECUTE FUNCTION ticket_view_counts_track()",
    ]


def upgrade() -> None:
    op.create_table(
        "ticket_view_counts",
        sa.Column("workspace_id", sa.BigInteger(), primary_key=True),
        sa.Column("status", sa.String(20), primary_key=True),
        sa.Column("channel_account_id", sa.BigInteger(), primary_key=True),
        sa.Column("team_id", sa.BigInteger(), primary_key=True),
        sa.Column("assignee_id", sa.BigInteger(), primary_key=True),
        sa.Column("needs_reply", sa.Integer(), primary_key=True),
        sa.Column("ticket_count", sa.Integer(), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    statements = postgresql_statements() if dialect == "postgresql" else sqlite_statements()
    for statement in statements:
        op.execute(statement)
    op.execute(fill(dialect))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ticket_view_counts_track ON tickets")
        op.execute("DROP FUNCTION IF EXISTS ticket_view_counts_track()")
    else:
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS ticket_view_counts_{suffix}")
    op.drop_table("ticket_view_counts")
