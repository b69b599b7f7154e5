"""Count the SQL statements a piece of work sends: pins that catch a per-row query."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from socialdesk.store.db import Database


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(*args: Any) -> None:
        # SQLite's explicit BEGIN goes through the cursor too; count real queries only.
        if args[2].split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT"):
            statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
