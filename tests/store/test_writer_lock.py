"""SQLite writers queue on one advisory lock: across Database instances (as across
processes), released on commit and on rollback, and taken only when a write begins."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from socialdesk.store.db import Database


def _database(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")
    with db.write() as s:
        s.execute(text("CREATE TABLE IF NOT EXISTS log (who TEXT)"))
    return db


def _held_by_someone(lock_path: str) -> bool:
    fd = os.open(lock_path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_write_holds_the_file_lock_until_commit(tmp_path: Path) -> None:
    db = _database(tmp_path / "e.db")
    assert db.writer_lock is not None
    path = db.writer_lock.path
    with db.write() as s:
        assert not _held_by_someone(path)  # nothing executed yet
        s.execute(text("INSERT INTO log VALUES ('x')"))
        assert _held_by_someone(path)
    assert not _held_by_someone(path)
    db.dispose()


def test_second_writer_waits_for_the_first_and_goes_right_after(tmp_path: Path) -> None:
    first, second = _database(tmp_path / "a.db"), _database(tmp_path / "a.db")
    holding = threading.Event()

    def hold_for_a_while() -> None:
        with first.write() as s:
            s.execute(text("INSERT INTO log VALUES ('first')"))
            holding.set()
            time.sleep(0.3)

    thread = threading.Thread(target=hold_for_a_while)
    thread.start()
    assert holding.wait(5)
    started = time.monotonic()
    with second.write() as s:
        s.execute(text("INSERT INTO log VALUES ('second')"))
    waited = time.monotonic() - started
    thread.join()
    with second.session() as s:
        assert list(s.scalars(text("SELECT who FROM log ORDER BY rowid"))) == ["first", "second"]
    assert 0.2 <= waited < 2.0
    first.dispose()
    second.dispose()


def test_rollback_releases_the_lock(tmp_path: Path) -> None:
    first, second = _database(tmp_path / "b.db"), _database(tmp_path / "b.db")
    with pytest.raises(RuntimeError), first.write() as s:
        s.execute(text("INSERT INTO log VALUES ('lost')"))
        raise RuntimeError("boom")
    started = time.monotonic()
    with second.write() as s:
        s.execute(text("INSERT INTO log VALUES ('kept')"))
    assert time.monotonic() - started < 1.0
    with second.session() as s:
        assert list(s.scalars(text("SELECT who FROM log"))) == ["kept"]
    first.dispose()
    second.dispose()


def test_an_unused_write_unit_holds_nothing(tmp_path: Path) -> None:
    # A request may open its write session before an auth dependency writes; the lock
    # follows SQLite's own and is taken at the first statement, not at write().
    first, second = _database(tmp_path / "c.db"), _database(tmp_path / "c.db")
    with first.write(), second.write() as s:
        s.execute(text("INSERT INTO log VALUES ('inner')"))
    with second.session() as s:
        assert s.scalar(text("SELECT count(*) FROM log")) == 1
    first.dispose()
    second.dispose()


def test_postgresql_and_memory_databases_have_no_file_lock(tmp_path: Path) -> None:
    assert Database("sqlite://").writer_lock is None
    assert Database("postgresql://postgres@127.0.0.1/test").writer_lock is None
    assert Database(f"sqlite:///{tmp_path / 'd.db'}").writer_lock is not None


def test_a_writer_that_cannot_queue_goes_on_rather_than_waiting_for_ever(tmp_path: Path) -> None:
    db = _database(tmp_path / "f.db")
    assert db.writer_lock is not None
    # Someone outside holds the side file's lock and never lets go (a leaked holder).
    fd = os.open(db.writer_lock.path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        db.writer_lock.timeout = 0.3
        assert db.writer_lock.acquire() is False
        with db.write() as s:  # still writes, under SQLite's own busy timeout
            s.execute(text("INSERT INTO log VALUES ('went on')"))
    finally:
        os.close(fd)
    with db.session() as s:
        assert list(s.scalars(text("SELECT who FROM log"))) == ["went on"]
    db.dispose()
