"""One sign-in throttle for both doors, the web login form and ``POST /api/v1/auth/token``.

Failures are counted per account (``account:<email>``) and per client address
(``address:<ip>``) in the ``auth_throttles`` table, so the count holds across processes
and across the two doors: guessing through the API locks the web form too, and the
other way round. While either key is locked nothing is verified, so the right password
is refused as well until the lock runs out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from socialdesk.auth.passwords import DUMMY_HASH, verify_password
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import AuthThrottle, User


@dataclass(frozen=True, slots=True)
class Limit:
    failures: int
    window: timedelta
    lockout: timedelta


# One person mistyping stays well under the account limit; an office behind one address
# signing in many people gets a larger allowance than one account.
ACCOUNT_LIMIT = Limit(failures=5, window=timedelta(minutes=15), lockout=timedelta(minutes=15))
ADDRESS_LIMIT = Limit(failures=20, window=timedelta(minutes=15), lockout=timedelta(minutes=15))


@dataclass(frozen=True, slots=True)
class ThrottleState:
    failures: int
    window_started_at: datetime
    locked_until: datetime | None


def after_failure(state: ThrottleState | None, now: datetime, limit: Limit) -> ThrottleState:
    """The state after one more failure: a new window when the old one ran out (or its
    lock was served), and a lock when this failure reaches the limit."""
    served = state is not None and state.locked_until is not None and state.locked_until <= now
    if state is None or served or now - state.window_started_at > limit.window:
        state = ThrottleState(failures=0, window_started_at=now, locked_until=None)
    failures = state.failures + 1
    locked_until = state.locked_until
    if failures >= limit.failures:
        locked_until = now + limit.lockout
    return ThrottleState(failures, state.window_started_at, locked_until)


def seconds_left(locked_until: datetime | None, now: datetime) -> int:
    """Whole seconds until a lock runs out (0 when not locked), for ``Retry-After``."""
    if locked_until is None or locked_until <= now:
        return 0
    return max(1, math.ceil((locked_until - now).total_seconds()))


def account_key(email: str) -> str:
    return "account:" + email.strip().lower()


def address_key(address: str) -> str:
    return "address:" + address


@dataclass(frozen=True, slots=True)
class Locked:
    """Sign-in refused without looking at the password."""

    retry_after: int  # seconds

    @property
    def wait(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        return f"{minutes} minute{'s' * (minutes != 1)}"

    @property
    def message(self) -> str:
        return f"too many failed sign-ins; try again in {self.wait}"


def _limits(email: str, address: str) -> dict[str, Limit]:
    return {account_key(email): ACCOUNT_LIMIT, address_key(address): ADDRESS_LIMIT}


def lock_state(database: Database, email: str, address: str) -> Locked | None:
    now = utcnow()
    with database.session() as s:
        rows = s.scalars(
            select(AuthThrottle).where(AuthThrottle.key.in_(list(_limits(email, address))))
        ).all()
        wait = max((seconds_left(row.locked_until, now) for row in rows), default=0)
    return Locked(wait) if wait else None


def record_failure(database: Database, email: str, address: str) -> None:
    now = utcnow()
    limits = _limits(email, address)
    with database.write() as s:
        # Insert-if-missing first, then lock the rows: two processes failing at once
        # both count instead of one overwriting the other.
        insert = pg_insert if not database.is_sqlite else sqlite_insert
        s.execute(
            insert(AuthThrottle)
            .values([{"key": k, "failures": 0, "window_started_at": now} for k in limits])
            .on_conflict_do_nothing(index_elements=["key"])
        )
        rows = s.scalars(
            select(AuthThrottle).where(AuthThrottle.key.in_(list(limits))).with_for_update()
        ).all()
        for row in rows:
            old = ThrottleState(row.failures, row.window_started_at, row.locked_until)
            new = after_failure(old, now, limits[row.key])
            row.failures = new.failures
            row.window_started_at = new.window_started_at
            row.locked_until = new.locked_until


def clear_account(database: Database, email: str) -> None:
    """A successful sign-in forgets the account's failures. The address keeps its count,
    so one known password cannot be used to reset guessing at others."""
    with database.write() as s:
        s.execute(delete(AuthThrottle).where(AuthThrottle.key == account_key(email)))


@dataclass(frozen=True, slots=True)
class SignIn:
    user: User | None  # detached; None when the credentials are wrong
    locked: Locked | None = None


def check_credentials(database: Database, email: str, password: str, address: str) -> SignIn:
    """Both doors sign in here: refused while locked, otherwise the password is checked
    and a failure counted. A deactivated user with the right password is returned (the
    door says why it refuses); it is not a failed guess."""
    email = email.strip().lower()
    locked = lock_state(database, email, address)
    if locked is not None:
        return SignIn(None, locked)
    with database.session() as s:
        user = s.scalar(select(User).where(User.email == email))
        ok = verify_password(user.password_hash if user else DUMMY_HASH, password)
        if user is not None:
            s.expunge(user)
    if not ok or user is None:
        record_failure(database, email, address)
        return SignIn(None)
    clear_account(database, email)
    return SignIn(user)
