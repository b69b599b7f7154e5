"""Engine and session factory. SQLite gets WAL and sane pragmas; PostgreSQL uses psycopg 3."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, TypeDecorator, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.store.inbox_spool import InboxSpool
from socialdesk.store.private_files import create_private_file


class DatabaseUrlError(ValueError):
    """A database URL the desk cannot use; the message says what to write instead."""


_URL_HINT = "use sqlite:///path/to/socialdesk.db or postgresql://user@host:5432/dbname"


def normalize_url(url: str) -> str:
    """Accept the URLs people paste (``postgresql://``, ``postgres://``) and pick psycopg 3;
    refuse anything else with a one-line reason (SQLite and PostgreSQL are supported)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUrlError(f"not a database URL: {url!r}; {_URL_HINT}") from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite" or driver not in ("", "pysqlite"):
        raise DatabaseUrlError(
            f"unsupported database {parsed.drivername!r} (socialdesk runs on SQLite and "
            f"on PostgreSQL through psycopg 3); {_URL_HINT}"
        )
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return url.startswith("sqlite")


BUSY_TIMEOUT_SECONDS = 10
SQLITE_CACHE_KIB = 8 * 1024
# A bounded pool per process (SQLAlchemy's own defaults, said out loud): at most 15
# connections, so at most 15 page caches.
SQLITE_POOL_SIZE = 5
SQLITE_MAX_OVERFLOW = 10


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets the inbox read while the pipeline writes; NORMAL sync is durable across
    # process crashes (not power loss), the usual trade-off for WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    # 8 MiB of page cache per connection (was 64 MiB): a process holds up to
    # SQLITE_POOL_SIZE + SQLITE_MAX_OVERFLOW connections, and four concurrent scans of a
    # 1M-message file filled 64 MiB each (605 MB RSS). Misses fall through to the
    # operating system's file cache, shared by every process. No mmap: mapped pages
    # would count against each process again.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if is_sqlite(url):
        path = sqlite_file(url)
        if path:
            create_private_file(path)
        if sqlite_file(url) is not None:  # a file: QueuePool (memory uses its own pool)
            kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
            kwargs.setdefault("max_overflow", SQLITE_MAX_OVERFLOW)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; emit it ourselves so a
        # read-then-write unit cannot interleave with another writer.
        event.listen(engine, "connect", _disable_pysqlite_autobegin)
        event.listen(engine, "begin", _emit_begin_immediate)
        event.listen(engine, "checkin", _release_writer_lock)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    if "options" not in make_url(url).query:
        # No JIT: the desk's queries are short index reads, but PostgreSQL decides on
        # cost estimates, and a range whose columns it takes as independent (the
        # at-risk count's clocks not yet marked warned yet past their warning instant:
        # a few hundred rows, estimated at tens of thousands) crosses jit_above_cost
        # and spends ~60 ms compiling for a query that runs in ~10 ms.
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("options", "-c jit=off")
        kwargs["connect_args"] = connect_args
    return create_engine(url, **kwargs)


def _disable_pysqlite_autobegin(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None


_HELD_WRITER_LOCK = "socialdesk_writer_lock"


def _emit_begin_immediate(conn: Any) -> None:
    # Units that write take the write lock up front, so they wait on busy_timeout
    # instead of failing when a deferred read transaction tries to upgrade.
    options = conn.get_execution_options()
    if options.get("sqlite_immediate"):
        writer_lock: SqliteWriterLock | None = options.get("sqlite_writer_lock")
        if writer_lock is not None and _HELD_WRITER_LOCK not in conn.info and writer_lock.acquire():
            conn.info[_HELD_WRITER_LOCK] = writer_lock
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def _release_writer_lock(_dbapi_conn: Any, record: Any) -> None:
    # Back in the pool means committed or rolled back: the next writer may go.
    held = record.info.pop(_HELD_WRITER_LOCK, None) if record is not None else None
    if held is not None:
        held.release()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class SqliteWriterLock:
    """One writer at a time across threads and processes, woken the moment it is free.

    SQLite's busy handler polls with growing sleeps (up to 100 ms), so a webhook commit
    that finds the pipeline writing can sleep long after the lock was released. Writers
    queue on an advisory lock on a side file instead, trying again within 2 ms;
    ``busy_timeout`` stays as the safety net for any writer that does not get it.
    """

    def __init__(self, database_path: str) -> None:
        self.path = f"{database_path}-writer.lock"
        self._threads = threading.Lock()  # flock does not exclude threads of one process
        self.timeout = float(BUSY_TIMEOUT_SECONDS)
        self._fd: int | None = None
        self._pid = 0

    def _descriptor(self) -> int:
        # A forked child must not share the parent's open file description.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self) -> bool:
        """Queue for the write lock; False (not queued) after the busy timeout.

        Never waits for ever and never fails a write: a writer that could not queue
        goes on to ``BEGIN IMMEDIATE`` and SQLite's own busy timeout, as without this
        lock (so a leaked holder or two writers on one thread cannot deadlock).
        """
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout):
            return False
        fd = self._descriptor()
        pause = 0.0002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self._threads.release()
                    return False
                # Short, capped pauses: the next writer starts within ~2 ms of release.
                time.sleep(pause)
                pause = min(pause * 2, 0.002)
            except BaseException:
                self._threads.release()
                raise

    def release(self) -> None:
        fcntl.flock(self._descriptor(), fcntl.LOCK_UN)
        self._threads.release()

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None


def sqlite_file(url: str) -> str | None:
    """The file a SQLite URL points to; None for another backend or an in-memory one."""
    if not is_sqlite(normalize_url(url)):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


class Database:
    """The engine plus a session factory; one per process (or per test database)."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self.sessions = make_session_factory(self.engine)
        path = sqlite_file(self.url)
        self.writer_lock = SqliteWriterLock(path) if path else None
        # Webhook deliveries queue in a side file on SQLite (see inbox_spool.py); an
        # in-memory database has no side to put it on and takes them directly.
        self.inbox_spool = InboxSpool(f"{path}-inbox", BUSY_TIMEOUT_SECONDS) if path else None
        self.write_engine = self.engine.execution_options(
            sqlite_immediate=True, sqlite_writer_lock=self.writer_lock
        )
        self.write_sessions = make_session_factory(self.write_engine)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-mostly unit of work: commits on success, rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work that writes (takes SQLite's write lock at BEGIN)."""
        with self.write_sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.writer_lock is not None:
            self.writer_lock.close()
        if self.inbox_spool is not None:
            self.inbox_spool.close()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC-aware one is required")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
