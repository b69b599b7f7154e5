"""Each test run gets its own database: a temporary SQLite file, or a fresh PostgreSQL
database (``SOCIALDESK_TEST_BACKEND=postgresql``) that is dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

os.environ.setdefault("SOCIALDESK_SECRET_KEY", Fernet.generate_key().decode())
# argon2's cheapest parameters: these tests do not measure hashing (auth/passwords.py)
os.environ.setdefault("SOCIALDESK_PASSWORD_HASHING", "cheapest")
# Payloads in tests name made-up CDN hosts: nothing is fetched unless a test asks
# (tests/attachments turn the fetch worker on against an emulator's media).
os.environ.setdefault("SOCIALDESK_ATTACHMENT_FETCH", "false")
# The encoder pass (~10 posts/s) is exercised by its own tests, which turn it on.
os.environ.setdefault("SOCIALDESK_TRIAGE_ENCODER", "false")

from socialdesk.config import reset_settings_cache
from socialdesk.store.db import Database
from socialdesk.store.migrate import upgrade
from socialdesk.store.models import Base

reset_settings_cache()

BACKEND = os.environ.get("SOCIALDESK_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "SOCIALDESK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# ../shared/data beside the checkout; a worktree elsewhere names it in SOCIALDESK_SHARED_DATA.
SHARED_DATA = Path(
    os.environ.get("SOCIALDESK_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)


def _admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if BACKEND == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'socialdesk_test.db'}"
        upgrade(url)
        yield url
        return
    if BACKEND != "postgresql":
        raise pytest.UsageError(f"unknown SOCIALDESK_TEST_BACKEND {BACKEND!r}")
    name = f"socialdesk_test_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    url = f"{base}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def db(_database: Database) -> Database:
    """The migrated test database, emptied before each test."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with _database.engine.begin() as conn:
        if _database.is_sqlite:
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))
        else:
            conn.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{n}"' for n in tables) + " RESTART IDENTITY CASCADE"
                )
            )
    spool = _database.inbox_spool
    if spool is not None:  # deliveries a previous test acknowledged but did not process
        spool.forget([delivery.id for delivery in spool.oldest(1_000_000)])
    return _database


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        raise pytest.UsageError(f"../shared/data not found at {SHARED_DATA}")
    return SHARED_DATA
