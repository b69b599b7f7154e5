"""Request-scoped dependencies: the database, the signed-in user, workspace scope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.credentials import mark_token_used
from socialdesk.auth.tokens import token_digest
from socialdesk.domain.enums import Role
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import ApiToken, Membership, User
from socialdesk.web.errors import ApiError

# Writing last_used_at on every request would turn reads into writes; once a minute is enough.
_TOUCH_INTERVAL = timedelta(minutes=1)


def get_database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


def read_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with database.session() as session:
        yield session


def write_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with database.write() as session:
        yield session


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise ApiError(401, "missing Authorization header; send 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Authorization must be 'Bearer <token>'")
    return token.strip()


def current_user(
    request: Request,
    database: Annotated[Database, Depends(get_database)],
    authorization: Annotated[str | None, Header()] = None,
) -> User:
    token = _bearer(authorization)
    now = utcnow()
    with database.session() as session:
        row = session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == token_digest(token))
        ).first()
        if row is None:
            raise ApiError(401, "invalid token")
        api_token, user = row
        if api_token.expires_at <= now:
            raise ApiError(401, "token expired; request a new one at POST /api/v1/auth/token")
        if not user.is_active:
            raise ApiError(403, "this user is deactivated")
        stale = api_token.last_used_at is None or now - api_token.last_used_at > _TOUCH_INTERVAL
        session.expunge(user)
    # Which token this request came with: revoking "the token in use", keeping it on a
    # password change.
    request.state.api_token_id = api_token.id
    if stale:
        mark_token_used(database, api_token.id, now)
    return user


CurrentUser = Annotated[User, Depends(current_user)]
# scope="function": the transaction commits before the response is sent, so a client
# that got 201 can read its write back at once.
ReadSession = Annotated[Session, Depends(read_session, scope="function")]
WriteSession = Annotated[Session, Depends(write_session, scope="function")]


def workspace_ids(session: Session, user: User) -> list[int]:
    return list(
        session.scalars(select(Membership.workspace_id).where(Membership.user_id == user.id))
    )


def require_role(user: User, *roles: Role) -> None:
    if user.role not in roles:
        raise ApiError(403, f"this needs one of the roles: {', '.join(sorted(roles))}")
