from __future__ import annotations

import shutil
import statistics
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from socialdesk.store.db import Database, normalize_url
from socialdesk.store.migrate import upgrade


@contextmanager
def scratch_database(server_url: str | None, *, keep: bool = False) -> Iterator[Database]:
    """A new, migrated database that is removed afterwards: a temporary SQLite file, or
    a fresh database on the PostgreSQL server ``server_url`` points at. With ``keep`` it
    stays (its URL is ``db.url``), for a later run to time again without seeding."""
    if server_url is None or server_url.startswith("sqlite"):
        folder = tempfile.mkdtemp(prefix="socialdesk-bench-")
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        db = Database(url)
        try:
            yield db
        finally:
            db.dispose()
            if not keep:
                shutil.rmtree(folder, ignore_errors=True)
        return
    parsed = make_url(normalize_url(server_url))
    name = f"socialdesk_bench_{uuid.uuid4().hex[:10]}"
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = parsed.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    try:
        upgrade(url)
        yield db
    finally:
        db.dispose()
        if not keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[rank]
