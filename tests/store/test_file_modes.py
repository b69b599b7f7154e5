"""The SQLite database and every file beside it (-wal, -shm, the inbox spool and its
own -wal/-shm, the writer lock) and the secret key file are created 0600, even under a
umask that would make them world-readable."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialdesk.auth import secret_box
from socialdesk.config import get_settings
from socialdesk.store.db import Database
from socialdesk.store.migrate import upgrade
from socialdesk.store.models import Workspace


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the common default: new files rw-r--r--
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_spool_and_lock_files_are_owner_only(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "desk.db"
    upgrade(f"sqlite:///{path}")
    database = Database(f"sqlite:///{path}")
    try:
        with database.write() as s:
            s.add(Workspace(slug="w", name="W", settings={}, created_at=datetime.now(UTC)))
        assert database.inbox_spool is not None
        database.inbox_spool.append([("hooks:x", None, {}, "{}")], datetime.now(UTC))
        files = {
            name: tmp_path / name
            for name in (
                "desk.db",
                "desk.db-wal",
                "desk.db-shm",
                "desk.db-writer.lock",
                "desk.db-inbox",
                "desk.db-inbox-wal",
                "desk.db-inbox-shm",
            )
        }
        for name, file in files.items():
            assert file.exists(), name
        assert {name: oct(_mode(file)) for name, file in files.items()} == {
            name: oct(0o600) for name in files
        }
    finally:
        database.dispose()


def test_the_key_file_is_owner_only(tmp_path: Path, open_umask: None) -> None:
    key_file = tmp_path / "socialdesk.key"
    settings = get_settings().model_copy(update={"secret_key": None, "secret_key_file": key_file})
    secret_box._fernet(settings.secret_key, str(settings.secret_key_file))
    assert _mode(key_file) == 0o600
