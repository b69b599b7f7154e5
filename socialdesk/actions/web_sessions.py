"""Browser sessions in the database: started at sign-in, kept alive while used, ended
at sign-out (the cookie and CSRF handling live in ``web/sessions.py``)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update

from socialdesk.auth.tokens import token_digest
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import WebSession

IDLE_TIMEOUT = timedelta(hours=12)


def start_session(database: Database, user_id: int) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with database.write() as s:
        # Old sessions of this browser's user that idled out are cleared on the way.
        s.execute(
            delete(WebSession).where(WebSession.user_id == user_id, WebSession.expires_at < now)
        )
        s.add(
            WebSession(
                token_hash=token_digest(token),
                user_id=user_id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + IDLE_TIMEOUT,
                last_seen_at=now,
            )
        )
    return token


def end_session(database: Database, session_id: int) -> None:
    with database.write() as s:
        s.execute(delete(WebSession).where(WebSession.id == session_id))


def keep_alive(database: Database, session_id: int, now: datetime) -> None:
    """The session was used: it idles out ``IDLE_TIMEOUT`` from now."""
    with database.write() as s:
        s.execute(
            update(WebSession)
            .where(WebSession.id == session_id)
            .values(last_seen_at=now, expires_at=now + IDLE_TIMEOUT)
        )
