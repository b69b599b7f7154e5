"""Liveness and readiness.

Liveness (``/healthz``) says the process answers: no database, no I/O, so a slow
database never gets a healthy process restarted. Readiness (``/readyz``) says it can do
its work: one database round trip, the schema at the migrations' head (a server started
before ``socialdesk migrate`` would fail on every request), and every background worker
running in this process alive and finishing passes (a pass that has not ended well for
``stale_after`` seconds means the worker is stuck or failing every time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from socialdesk.store.db import Database
from socialdesk.store.migrate import alembic_config

# A worker whose last good pass is older than this is reported (at least three of its
# intervals, for the SLA scan that runs once a minute).
MIN_STALE_SECONDS = 120.0


class _Worker(Protocol):
    name: str
    interval: float

    @property
    def running(self) -> bool: ...

    def seconds_since_last_pass(self) -> float | None: ...


@dataclass(slots=True)
class Readiness:
    ready: bool
    checks: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        status = "ready" if self.ready else "not ready"
        return {"status": status, "checks": self.checks, "reasons": self.reasons}


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    """The head revisions of the migrations shipped with this code."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def worker_problem(name: str, running: bool, since_ok: float | None, interval: float) -> str | None:
    """Why a worker is not fit, or None."""
    if not running:
        return f"worker {name} is not running"
    stale_after = max(MIN_STALE_SECONDS, 3 * interval)
    if since_ok is not None and since_ok > stale_after:
        return f"worker {name} has not finished a pass without error for {since_ok:.0f} s"
    return None


def check_readiness(db: Database, workers: Sequence[_Worker] = ()) -> Readiness:
    result = Readiness(ready=True)
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            # Read directly: Alembic's MigrationContext logs two lines per call.
            current = (
                set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
                if inspect(conn).has_table("alembic_version")
                else set()
            )
    except (SQLAlchemyError, OSError) as exc:
        # The class, not the message: a driver's message can name hosts and users.
        result.checks["database"] = "unreachable"
        result.reasons.append(f"database unreachable ({type(exc).__name__})")
        current = None
    else:
        result.checks["database"] = "ok"
    if current is not None:
        expected = migration_heads()
        if current == expected:
            result.checks["migrations"] = "ok"
        else:
            result.checks["migrations"] = "behind"
            have = ", ".join(sorted(current)) or "none"
            result.reasons.append(
                f"schema at {have}, code expects {', '.join(sorted(expected))}: "
                "run socialdesk migrate"
            )
    for worker in workers:
        problem = worker_problem(
            worker.name, worker.running, worker.seconds_since_last_pass(), worker.interval
        )
        result.checks[f"worker:{worker.name}"] = "ok" if problem is None else "failing"
        if problem is not None:
            result.reasons.append(problem)
    result.ready = not result.reasons
    return result
