"""Browser sessions for the inbox: a random cookie token (only its SHA-256 is stored),
a per-session CSRF token that every form and HTMX request must echo. Failed sign-ins
are throttled in ``auth/throttle.py``, shared with the token endpoint."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socialdesk.actions.web_sessions import IDLE_TIMEOUT, keep_alive
from socialdesk.auth.tokens import token_digest
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import ApprovalDraft, Membership, Notification, User, WebSession

SESSION_COOKIE = "socialdesk_session"
# Before sign-in there is no session; the login form uses a double-submit cookie.
LOGIN_CSRF_COOKIE = "socialdesk_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_TOUCH_INTERVAL = timedelta(minutes=5)


class LoginRequired(Exception):
    """No valid session: pages redirect to the sign-in form, HTMX gets a 401."""


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token."""


@dataclass(frozen=True, slots=True)
class WebUser:
    """The signed-in user as pages need them (a plain value, safe across sessions)."""

    id: int
    email: str
    name: str
    role: str
    csrf_token: str
    session_id: int
    workspace_ids: tuple[int, ...]
    # Unread in-app notifications (mentions…), read with the session row.
    unread_notifications: int = 0
    # Drafts waiting for a reviewer, for leads and admins (the nav shows the count).
    pending_approvals: int = 0
    # The IANA zone this person sees times in (their profile's choice).
    time_zone: str = "UTC"
    time_zone_chosen: bool = False

    @property
    def label(self) -> str:
        return self.name or self.email

    @property
    def initials(self) -> str:
        parts = (self.name or self.email.split("@")[0]).replace(".", " ").split()
        return "".join(p[0] for p in parts[:2]).upper()


def _db(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(IDLE_TIMEOUT.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def login_csrf_token(request: Request) -> str:
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def set_login_csrf_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/login",
    )


REVIEWER_ROLES = frozenset({"admin", "lead"})


def pending_approval_count(session: Session, workspace_ids: tuple[int, ...]) -> int:
    """Drafts waiting for review in these workspaces (an index-only count)."""
    if not workspace_ids:
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(ApprovalDraft)
            .where(ApprovalDraft.workspace_id.in_(workspace_ids), ApprovalDraft.state == "pending")
        )
        or 0
    )


def _load(request: Request) -> WebUser | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    database = _db(request)
    now = utcnow()
    with database.session() as s:
        unread = (
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == User.id, Notification.read_at.is_(None))
            .scalar_subquery()
        )
        row = s.execute(
            select(WebSession, User, unread)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash == token_digest(token))
        ).first()
        if row is None:
            return None
        web_session, user, unread_count = row
        if web_session.expires_at <= now or not user.is_active:
            return None
        workspaces = tuple(
            s.scalars(select(Membership.workspace_id).where(Membership.user_id == user.id))
        )
        found = WebUser(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            csrf_token=web_session.csrf_token,
            session_id=web_session.id,
            workspace_ids=workspaces,
            unread_notifications=int(unread_count or 0),
            time_zone=user.time_zone or "UTC",
            time_zone_chosen=user.time_zone is not None,
            pending_approvals=(
                pending_approval_count(s, workspaces) if user.role in REVIEWER_ROLES else 0
            ),
        )
        stale = now - web_session.last_seen_at > _TOUCH_INTERVAL
    if stale:
        keep_alive(database, found.session_id, now)
    return found


def web_user(request: Request) -> WebUser:
    """The signed-in user, or LoginRequired."""
    cached = getattr(request.state, "web_user", None)
    if cached is not None:
        assert isinstance(cached, WebUser)
        return cached
    found = _load(request)
    if found is None:
        raise LoginRequired
    request.state.web_user = found
    return found


async def csrf_checked_user(request: Request) -> WebUser:
    """For every state-changing request: the signed-in user whose CSRF token came along
    in the ``X-CSRF-Token`` header (HTMX) or the ``csrf_token`` form field."""
    user = web_user(request)
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, user.csrf_token):
        raise CsrfRefused
    return user


PageUser = Annotated[WebUser, Depends(web_user)]
FormUser = Annotated[WebUser, Depends(csrf_checked_user)]
