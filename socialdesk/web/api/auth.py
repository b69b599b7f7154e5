from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from socialdesk.actions.credentials import change_password, issue_token, revoke_token
from socialdesk.actions.profile import set_time_zone
from socialdesk.auth.passwords import verify_password
from socialdesk.auth.throttle import Locked, check_credentials, lock_state, record_failure
from socialdesk.domain.enums import Role
from socialdesk.store.db import Database
from socialdesk.store.models import ApiToken, User
from socialdesk.web.api.params import DbId, IdPath
from socialdesk.web.api.schemas import (
    PasswordChange,
    PasswordChangedOut,
    ProfileIn,
    TokenOut,
    TokenRequest,
    TokenResponse,
    UserOut,
)
from socialdesk.web.client_address import client_address
from socialdesk.web.deps import CurrentUser, ReadSession, get_database
from socialdesk.web.errors import ApiError, error_response

router = APIRouter(tags=["auth"])
DatabaseDep = Annotated[Database, Depends(get_database)]


async def _credentials(request: Request) -> TokenRequest:
    """JSON ``{"email","password"}``, or an OAuth2 password form (``username``)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        email = form.get("email") or form.get("username")
        password = form.get("password")
        name = form.get("name") or ""
        if not isinstance(email, str) or not isinstance(password, str):
            raise ApiError(422, "email (or username) and password are required")
        try:
            return TokenRequest(email=email, password=password, name=str(name))
        except ValueError as exc:
            raise ApiError(422, "email, password and name must be short strings") from exc
    try:
        payload = await request.json()
    except ValueError as exc:
        raise ApiError(400, 'body must be JSON: {"email": ..., "password": ...}') from exc
    if not isinstance(payload, dict):
        raise ApiError(422, "body must be a JSON object with email and password")
    try:
        return TokenRequest.model_validate(payload)
    except ValueError as exc:
        raise ApiError(422, "email and password are required (strings)") from exc


def _too_many(locked: Locked) -> Response:
    response = error_response(429, locked.message)
    response.headers["Retry-After"] = str(locked.retry_after)
    return response


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses={429: {"description": "too many failed sign-ins; see Retry-After"}},
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": TokenRequest.model_json_schema()}},
            "required": True,
        }
    },
)
async def issue(request: Request, database: DatabaseDep) -> Response | TokenResponse:
    creds = await _credentials(request)
    result = await run_in_threadpool(
        check_credentials, database, creds.email, creds.password, client_address(request)
    )
    if result.locked is not None:
        return _too_many(result.locked)
    if result.user is None:
        raise ApiError(401, "wrong e-mail or password")
    if not result.user.is_active:
        raise ApiError(403, "this user is deactivated")
    user_id = result.user.id

    def write() -> TokenResponse:
        with database.write() as session:
            user = session.get(User, user_id)
            assert user is not None
            issued = issue_token(
                session,
                user,
                timedelta(hours=request.app.state.settings.token_ttl_hours),
                name=creds.name,
            )
        return TokenResponse(access_token=issued.token, expires_at=issued.expires_at, id=issued.id)

    return await run_in_threadpool(write)


@router.get("/auth/tokens", response_model=list[TokenOut])
def list_tokens(
    request: Request, user: CurrentUser, session: ReadSession, user_id: DbId | None = None
) -> list[TokenOut]:
    """Your own tokens (an admin may pass ``user_id`` to see another user's)."""
    owner_id = user.id if user_id is None else user_id
    if owner_id != user.id and user.role != Role.ADMIN:
        raise ApiError(403, "only admins can list another user's tokens")
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == owner_id).order_by(ApiToken.id)
    )
    in_use = getattr(request.state, "api_token_id", None)
    return [
        TokenOut.model_validate(row).model_copy(update={"current": row.id == in_use})
        for row in rows
    ]


def _revoke(database: Database, actor_id: int, token_id: int) -> None:
    with database.write() as session:
        actor = session.get(User, actor_id)
        assert actor is not None
        revoke_token(session, actor, token_id)


@router.delete("/auth/tokens/{token_id}", status_code=204)
def revoke(token_id: IdPath, user: CurrentUser, database: DatabaseDep) -> Response:
    """Revoke one of your tokens (admins: anyone's). It stops working at once."""
    _revoke(database, user.id, token_id)
    return Response(status_code=204)


@router.delete("/auth/token", status_code=204)
def revoke_current(request: Request, user: CurrentUser, database: DatabaseDep) -> Response:
    """Revoke the token this request came with (sign out of the API)."""
    _revoke(database, user.id, int(request.state.api_token_id))
    return Response(status_code=204)


@router.post(
    "/auth/password",
    response_model=PasswordChangedOut,
    responses={429: {"description": "too many wrong current passwords; see Retry-After"}},
)
def password(
    body: PasswordChange, request: Request, user: CurrentUser, database: DatabaseDep
) -> Response | PasswordChangedOut:
    """Change your own password. Every other session and token of yours ends; the
    token this request came with keeps working."""
    address = client_address(request)
    # A stolen token must not become a way around the sign-in throttle.
    locked = lock_state(database, user.email, address)
    if locked is not None:
        return _too_many(locked)
    if not verify_password(user.password_hash, body.current_password):
        record_failure(database, user.email, address)
        raise ApiError(403, "the current password is wrong")
    with database.write() as session:
        fresh = session.get(User, user.id)
        assert fresh is not None
        ended = change_password(
            session,
            fresh,
            body.current_password,
            body.new_password,
            keep_token_id=getattr(request.state, "api_token_id", None),
        )
    return PasswordChangedOut(ended=ended)


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> User:
    return user


@router.patch("/me", response_model=UserOut)
def update_me(request: Request, body: ProfileIn, user: CurrentUser) -> User:
    """Change your own preferences: the time zone the pages show times in."""
    database: Database = request.app.state.db
    with database.write() as session:
        fresh = session.get(User, user.id)
        assert fresh is not None
        set_time_zone(session, fresh, body.time_zone)
        session.flush()
        session.expunge(fresh)
    return fresh
