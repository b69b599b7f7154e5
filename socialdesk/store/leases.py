"""Work that one process at a time may do, and rows one worker at a time may hold.

Several ``socialdesk serve`` and ``socialdesk worker`` processes may share one database.
Two tools keep them from doing the same work twice:

* ``single_runner(db, name)``: a turn at a periodic job (the SLA scan and time rules,
  polling one account). On PostgreSQL a session advisory lock on a connection of its
  own (``pg_try_advisory_lock``): PostgreSQL drops it when the process dies, so the
  next runner takes over at its next pass. On a SQLite file an ``flock`` on
  ``<database>-<name>.lock``, which the kernel drops with the process. Whoever does not
  get the turn skips the pass; the holder's commit is visible to the next one, so a
  job that is idempotent once committed (the scan moves each clock past its notice)
  runs exactly once.
* ``RowLease``: rows a worker claimed (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two
  claims never pick the same row) stay its own while a heartbeat thread renews their
  ``claimed_until``. A worker that dies stops renewing, and another takes the rows
  over once the lease runs out: seconds, not minutes. The ``claimed_until`` a worker
  wrote is its token: a row showing another value was taken over and is not sent.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, select, text, update

from socialdesk.store.db import Database, sqlite_file, utcnow

log = logging.getLogger(__name__)

# In-memory SQLite has no file to lock and no other process: a lock per name will do.
_local_locks: dict[tuple[str, str], threading.Lock] = {}
_local_guard = threading.Lock()


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` (same in every process)."""
    digest = hashlib.blake2b(f"socialdesk:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def single_runner(db: Database, name: str) -> Iterator[bool]:
    """True when this caller has the turn at ``name`` until the block ends; False when
    another thread or process has it right now (skip the pass)."""
    if not db.is_sqlite:
        with _advisory_lock(db, name) as mine:
            yield mine
        return
    path = sqlite_file(db.url)
    if path is None:
        with _local_lock(db.url, name) as mine:
            yield mine
        return
    with _file_lock(f"{path}-{name.replace(':', '-').replace('/', '-')}.lock") as mine:
        yield mine


@contextmanager
def _advisory_lock(db: Database, name: str) -> Iterator[bool]:
    key = advisory_key(name)
    # Autocommit: the lock belongs to the session, and no transaction stays open while
    # the holder works (a poll may wait on the network for seconds).
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        mine = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
        try:
            yield mine
        finally:
            if mine:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


@contextmanager
def _file_lock(path: str) -> Iterator[bool]:
    # A descriptor per turn: flock excludes other open file descriptions, so two
    # threads of one process exclude each other as two processes do.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def _local_lock(url: str, name: str) -> Iterator[bool]:
    with _local_guard:
        lock = _local_locks.setdefault((url, name), threading.Lock())
    if not lock.acquire(blocking=False):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def heartbeat_every(lease: timedelta) -> float | None:
    """Seconds between renewals of a lease this long: three tries before it runs out
    (None for a zero lease, which tests use to make a claim expire at once)."""
    seconds = lease.total_seconds()
    return seconds / 3 if seconds > 0 else None


class RowLease:
    """Rows of ``table`` (with ``id``, ``state`` and ``claimed_until``) claimed in one
    transaction with ``claimed_until = until``; renewed by a heartbeat thread while the
    block runs, so they stay this worker's for as long as it works on them."""

    def __init__(
        self,
        db: Database,
        table: Table,
        ids: list[int],
        until: datetime,
        length: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db, self.table, self.length, self.clock = db, table, length, clock
        self.ids = list(ids)
        self.until = until
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> RowLease:
        every = heartbeat_every(self.length)
        if every is not None and self.ids:
            self._thread = threading.Thread(
                target=self._beat, args=(every,), name="lease-heartbeat", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _beat(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.renew()
            except Exception:  # a lost connection: the next beat tries again
                log.exception("renewing the claim on %s rows failed", self.table.name)

    def renew(self) -> int:
        """Push the lease of the rows still held (still ``sending`` with our token)."""
        with self._lock:
            new = self.clock() + self.length
            c = self.table.c
            with self.db.write() as s:
                result = s.execute(
                    update(self.table)
                    .where(
                        c.id.in_(self.ids),
                        c.state == "sending",
                        c.claimed_until == self.until,
                    )
                    .values(claimed_until=new)
                )
            self.until = new
            return int(getattr(result, "rowcount", 0) or 0)

    def holds(self, row_id: int) -> bool:
        """Whether the row is still ours: another worker that took it over wrote its own
        ``claimed_until``, and a finished row has none."""
        with self._lock:
            c = self.table.c
            with self.db.session() as s:
                current = s.scalar(select(c.claimed_until).where(c.id == row_id))
            return current is not None and current == self.until
