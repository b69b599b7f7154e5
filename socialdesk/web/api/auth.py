from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from sqlalchemy import select

from socialdesk.auth.passwords import DUMMY_HASH, verify_password
from socialdesk.auth.tokens import new_token, token_digest
from socialdesk.config import get_settings
from socialdesk.store.db import utcnow
from socialdesk.store.models import ApiToken, User
from socialdesk.web.api.schemas import TokenRequest, TokenResponse, UserOut
from socialdesk.web.deps import CurrentUser, WriteSession
from socialdesk.web.errors import ApiError

router = APIRouter(tags=["auth"])


async def _credentials(request: Request) -> TokenRequest:
    """JSON ``{"email","password"}``, or an OAuth2 password form (``username``)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        email = form.get("email") or form.get("username")
        password = form.get("password")
        if not isinstance(email, str) or not isinstance(password, str):
            raise ApiError(422, "email (or username) and password are required")
        return TokenRequest(email=email, password=password)
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


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": TokenRequest.model_json_schema()}},
            "required": True,
        }
    },
)
async def issue_token(request: Request, session: WriteSession) -> TokenResponse:
    creds = await _credentials(request)
    user = session.scalar(select(User).where(User.email == creds.email.strip().lower()))
    valid = verify_password(user.password_hash if user else DUMMY_HASH, creds.password)
    if user is None or not valid:
        raise ApiError(401, "wrong e-mail or password")
    if not user.is_active:
        raise ApiError(403, "this user is deactivated")
    token = new_token()
    expires_at = utcnow() + timedelta(hours=get_settings().token_ttl_hours)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=token_digest(token),
            created_at=utcnow(),
            expires_at=expires_at,
        )
    )
    return TokenResponse(access_token=token, expires_at=expires_at)


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> User:
    return user
