"""A user's own credentials: API tokens (issued, listed, revoked) and their password.

Every write records an audit entry for each workspace the user belongs to, so each
workspace's admins see it in their audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, audit
from socialdesk.auth.password_policy import password_problem
from socialdesk.auth.passwords import hash_password, verify_password
from socialdesk.auth.tokens import new_token, token_digest
from socialdesk.domain.enums import Role
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import ApiToken, Membership, User, WebSession

TOKEN_NAME_MAX = 100


def audit_everywhere(
    session: Session,
    actor: User | None,
    subject: User,
    action: str,
    object_type: str,
    object_id: int | None,
    data: dict[str, Any],
) -> None:
    workspaces = session.scalars(
        select(Membership.workspace_id).where(Membership.user_id == subject.id)
    )
    for workspace_id in workspaces:
        audit(session, actor, action, object_type, object_id, workspace_id, data)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str  # shown once; only its SHA-256 is stored
    id: int
    expires_at: datetime


def issue_token(session: Session, user: User, ttl: timedelta, *, name: str = "") -> IssuedToken:
    name = name.strip()
    if len(name) > TOKEN_NAME_MAX:
        raise ActionError(f"token name must be at most {TOKEN_NAME_MAX} characters", 422)
    token = new_token()
    now = utcnow()
    row = ApiToken(
        user_id=user.id,
        token_hash=token_digest(token),
        name=name,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    session.flush()
    audit_everywhere(session, user, user, "api_token.created", "api_token", row.id, {"name": name})
    return IssuedToken(token, row.id, row.expires_at)


def revoke_token(session: Session, actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's tokens; an admin may revoke anyone's. Someone else's
    token looks the same as a missing one to a non-admin (404), so ids reveal nothing."""
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != actor.id and actor.role != Role.ADMIN):
        raise ActionError(f"no token {token_id}", 404)
    owner = session.get(User, row.user_id)
    assert owner is not None
    audit_everywhere(
        session,
        actor,
        owner,
        "api_token.revoked",
        "api_token",
        row.id,
        {"name": row.name, "owner_user_id": owner.id},
    )
    session.delete(row)
    return row


def change_password(
    session: Session,
    user: User,
    current_password: str,
    new_password: str,
    *,
    keep_session_id: int | None = None,
    keep_token_id: int | None = None,
) -> int:
    """Set a new password after checking the current one; every other browser session
    and API token of the user ends (the one the change came through is kept). Returns
    how many were ended."""
    if not verify_password(user.password_hash, current_password):
        raise ActionError("the current password is wrong", 403)
    if new_password == current_password:
        raise ActionError("the new password must differ from the current one", 422)
    problem = password_problem(new_password, (user.email, user.name))
    if problem:
        raise ActionError(problem, 422)
    user.password_hash = hash_password(new_password)
    sessions = delete(WebSession).where(WebSession.user_id == user.id)
    if keep_session_id is not None:
        sessions = sessions.where(WebSession.id != keep_session_id)
    tokens = delete(ApiToken).where(ApiToken.user_id == user.id)
    if keep_token_id is not None:
        tokens = tokens.where(ApiToken.id != keep_token_id)
    ended = int(session.execute(sessions).rowcount or 0)  # type: ignore[attr-defined]
    ended += int(session.execute(tokens).rowcount or 0)  # type: ignore[attr-defined]
    audit_everywhere(
        session, user, user, "user.password_changed", "user", user.id, {"ended": ended}
    )
    return ended


def mark_token_used(database: Database, token_id: int, now: datetime) -> None:
    """Note when an API token was last used (at most every few minutes per token)."""
    with database.write() as session:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
