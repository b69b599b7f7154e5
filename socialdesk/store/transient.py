"""Which database errors are worth trying again.

A lost connection, a lock or statement timeout, a serialization failure or a deadlock
says nothing about the data: the same work succeeds on a later try. Anything else (a
constraint, a type, a bug) fails the same way every time. Workers retry the first kind
with backoff and record the second as a failure with its reason.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import psycopg
import psycopg.errors
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLite reports contention through OperationalError messages, next to errors that are
# not transient at all (``no such table``), so only these are.
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "database is busy")


def is_transient(exc: BaseException) -> bool:
    """True for a connection lost, a lock/statement timeout, a serialization failure or
    a deadlock, on SQLite or PostgreSQL, wrapped by SQLAlchemy or not."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        if _transient_one(current):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _transient_one(exc: BaseException) -> bool:
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        return exc.orig is not None and _transient_one(exc.orig)
    if isinstance(exc, sqlite3.OperationalError):
        return any(text in str(exc).lower() for text in _SQLITE_TRANSIENT)
    # psycopg: every OperationalError (connection lost, admin shutdown, serialization
    # failure, deadlock, lock not available, query canceled by a timeout) and a closed
    # connection (InterfaceError).
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


def is_unique_violation(exc: BaseException) -> bool:
    """A unique key refused an insert. In a worker racing another over the same new
    contact or post, that is a race lost, not bad data: the winner has committed the
    row, and the same work tried again finds it. Callers retry it a bounded number of
    times, since a real duplicate in one's own data would fail forever."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        if isinstance(current, psycopg.errors.UniqueViolation):
            return True
        if isinstance(current, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(
            current
        ):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
        seen += 1
    return False


def backoff(attempts: int, *, base: float = 2.0, cap: float = 300.0) -> timedelta:
    """Wait before try ``attempts + 1``: 2 s, 4 s, 8 s … at most ``cap`` seconds."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, min(attempts - 1, 20))))
