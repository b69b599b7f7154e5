"""Run Alembic migrations programmatically (``socialdesk migrate``)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on a '%' in a password.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    _set_aside_orphaned_spool(url)
    command.upgrade(alembic_config(url), revision)


def _set_aside_orphaned_spool(url: str) -> None:
    """A SQLite database created from scratch must not inherit the inbox spool of a
    deleted one of the same name (store/inbox_spool.py)."""
    from socialdesk.store.db import sqlite_file, utcnow
    from socialdesk.store.inbox_spool import set_aside

    path = sqlite_file(url)
    if path is None or not os.path.exists(f"{path}-inbox"):
        return
    if not os.path.exists(path) or not current_heads(url):
        set_aside(f"{path}-inbox", utcnow())


def current_heads(url: str) -> list[str]:
    from alembic.runtime.migration import MigrationContext

    from socialdesk.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
