"""A side SQLite file that takes webhook deliveries while the main database is busy.

SQLite lets one writer in at a time. When webhook acknowledgements and the pipeline
that turns them into tickets share that one lock, every acknowledgement can wait behind
a whole batch of ticketing. So on SQLite each delivery is committed to this small file
of its own (WAL, each commit synced to disk) and acknowledged; the
raw-event worker moves what has queued up into ``raw_events`` in one transaction and
only then forgets it here. A crash between the two moves nothing twice:
``raw_events.inbox_id`` is unique.

The file lives beside the database (``<database>-inbox``), like SQLite's own ``-wal``
file: back it up, move it and delete it together with the database. A spool found beside
a database being created from scratch belonged to a deleted one: migrating sets it aside
(renamed, nothing lost) instead of moving its deliveries into the new database.

PostgreSQL has row-level concurrency, so it needs none of this and takes deliveries
straight into ``raw_events``.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from socialdesk.store.private_files import create_private_file

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    channel_account_id INTEGER,
    received_at TEXT NOT NULL,
    headers TEXT NOT NULL,
    body TEXT NOT NULL
)
"""
# AUTOINCREMENT: an id is never handed out twice, even after its row is forgotten, so
# ``raw_events.inbox_id`` can tell "already moved" from "new".


@dataclass(frozen=True, slots=True)
class SpooledDelivery:
    id: int
    source: str
    channel_account_id: int | None
    received_at: datetime
    headers: dict[str, Any]
    body: str


class InboxSpool:
    """Append, read in order, forget: the three things the inbox file is asked to do."""

    def __init__(self, path: str, busy_timeout_seconds: float = 10.0) -> None:
        self.path = path
        self.busy_timeout_seconds = busy_timeout_seconds
        # One connection per process, used by one thread at a time: every operation
        # here is a few milliseconds, so sharing beats a connection per thread.
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            # Owner-only, like the database (its -wal/-shm take this file's mode).
            create_private_file(self.path)
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_seconds,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a 200 tells the platform the delivery is stored, so it must outlive
            # a power cut, not only a crash of this process (NORMAL's promise in WAL).
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(_SCHEMA)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def append(
        self,
        deliveries: Sequence[tuple[str, int | None, dict[str, Any], str]],
        received_at: datetime,
    ) -> list[int]:
        """Commit ``(source, channel_account_id, headers, body)`` rows; their ids, in order."""
        stamp = received_at.astimezone(UTC).isoformat()
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                ids = []
                for source, account_id, headers, body in deliveries:
                    cursor = conn.execute(
                        "INSERT INTO inbox (source, channel_account_id, received_at, headers, body)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (source, account_id, stamp, json.dumps(headers), body),
                    )
                    ids.append(int(cursor.lastrowid or 0))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return ids

    def oldest(self, limit: int) -> list[SpooledDelivery]:
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    "SELECT id, source, channel_account_id, received_at, headers, body"
                    " FROM inbox ORDER BY id LIMIT ?",
                    (limit,),
                )
                .fetchall()
            )
        return [
            SpooledDelivery(
                id=row[0],
                source=row[1],
                channel_account_id=row[2],
                received_at=datetime.fromisoformat(row[3]),
                headers=json.loads(row[4]),
                body=row[5],
            )
            for row in rows
        ]

    def forget(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for start in range(0, len(ids), 500):
                    part = list(ids[start : start + 500])
                    marks = ",".join("?" * len(part))
                    conn.execute(f"DELETE FROM inbox WHERE id IN ({marks})", part)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def count(self) -> int:
        with self._lock:
            (found,) = self._connection().execute("SELECT count(*) FROM inbox").fetchone()
        return int(found)

    def oldest_received_at(self) -> datetime | None:
        """When the oldest delivery still waiting here arrived (None: none waits)."""
        with self._lock:
            row = (
                self._connection()
                .execute("SELECT received_at FROM inbox ORDER BY id LIMIT 1")
                .fetchone()
            )
        return datetime.fromisoformat(row[0]) if row else None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None


class NotASpoolError(ValueError):
    """The file asked for is missing or is not an inbox spool."""


_SPOOL_COLUMNS = {"id", "source", "channel_account_id", "received_at", "headers", "body"}


def open_existing_spool(path: str) -> InboxSpool:
    """An inbox spool that must already exist (an orphaned one, to import).

    Checked read-only first: opening a spool creates its table, which must never happen
    to some other SQLite file given by mistake."""
    if not os.path.isfile(path):
        raise NotASpoolError(f"no such file: {path}")
    try:
        probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            columns = {row[1] for row in probe.execute("PRAGMA table_info(inbox)")}
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        raise NotASpoolError(f"{path} is not an inbox spool ({exc})") from exc
    if columns != _SPOOL_COLUMNS:
        raise NotASpoolError(f"{path} is not an inbox spool: it has no inbox table")
    return InboxSpool(path)


def set_aside(spool_path: str, now: datetime) -> str | None:
    """Rename a spool (with its WAL files) out of the way; the new name, None if absent.

    For a spool that outlived its database: its deliveries are kept for inspection, not
    moved into a database they were never meant for."""
    if not os.path.exists(spool_path):
        return None
    target = f"{spool_path}-orphaned-{now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    for suffix in ("-wal", "-shm", ""):  # the main file last: SQLite finds WAL by name
        if os.path.exists(spool_path + suffix):
            os.replace(spool_path + suffix, target + suffix)
    log.warning("an inbox spool without its database was set aside as %s", target)
    return target
