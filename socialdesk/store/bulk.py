"""Bulk inserts that know their new ids without RETURNING.

SQLite cannot promise RETURNING order for a multi-row insert, so SQLAlchemy falls back
to one statement per row, which is the slowest part of a batch. Instead, ids are
allocated first (SQLite: above the current maximum, safe because writers hold the
database lock from BEGIN IMMEDIATE; PostgreSQL: from the table's sequence) and rows
are inserted with a plain executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text


def allocate_ids(conn: Connection, table: Table, count: int) -> list[int]:
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table.name, "n": count},
        )
        return [r[0] for r in rows]
    current = conn.execute(select(func.max(table.c.id))).scalar() or 0
    return list(range(current + 1, current + 1 + count))


def insert_with_ids(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` and return their ids in the same order."""
    ids = allocate_ids(conn, table, len(rows))
    if ids:
        conn.execute(
            insert(table), [{**row, "id": new_id} for row, new_id in zip(rows, ids, strict=True)]
        )
    return ids
