"""OAuth 2.0 user tokens of the X emulator: issuing, refreshing (with rotation), revoking
and expiring them. Routes are added to the X app by ``add_oauth_routes``.

As X (../shared/specs/social-platform-apis.md §1.1): ``POST /2/oauth2/token`` is
form-encoded; ``grant_type=refresh_token`` takes ``refresh_token`` and ``client_id``,
and a confidential client authenticates with ``Authorization: Basic
base64(client_id:client_secret)``. Each refresh returns a new pair and kills the
refresh token used, so a reused one is answered 400 like any unknown token.

Control:

- ``POST /_emulator/tokens`` ``{"user_id", "expires_in"?, "client_id"?, "client_secret"?,
  "scope"?}`` → the token response, with a ``refresh_token`` when the scope holds
  ``offline.access`` (the default scope does).
- ``POST /_emulator/tokens/expire`` ``{"access_token"}`` or ``{"user_id"}``.
- ``POST /_emulator/tokens/revoke`` ``{"user_id"}`` — the user removed the app: every
  access and refresh token of theirs dies.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any
from urllib.parse import parse_qs

from fastapi import Body, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from socialdesk.channels.x.emulator_model import RefreshGrant, XState

ACCESS_TOKEN_SECONDS = 7200
DEFAULT_CLIENT_ID = "emulated-x-client"
DEFAULT_SCOPE = (
    "tweet.read tweet.write users.read dm.read dm.write tweet.moderate.write offline.access"
)
REFRESH_LOG_ENDPOINT = "POST /2/oauth2/token"


def oauth_error(error: str, description: str) -> dict[str, str]:
    return {"error": error, "error_description": description}


def invalid_token() -> JSONResponse:
    """X's answer to an unknown, used or revoked refresh token."""
    body = oauth_error("invalid_request", "Value passed for the token was invalid.")
    return JSONResponse(body, 400)


def unauthorized_client() -> JSONResponse:
    body = oauth_error("unauthorized_client", "Missing valid authorization header")
    return JSONResponse(body, 401)


def issue_tokens(
    state: XState,
    user_id: str,
    *,
    client_id: str,
    client_secret: str | None,
    scope: str,
    expires_in: int = ACCESS_TOKEN_SECONDS,
) -> dict[str, Any]:
    """A new access token (and refresh token with ``offline.access``), as X's token
    response."""
    access_token = secrets.token_urlsafe(24)
    state.tokens[access_token] = (user_id, state.core.clock.time() + expires_in)
    body: dict[str, Any] = {
        "token_type": "bearer",
        "expires_in": expires_in,
        "access_token": access_token,
        "scope": scope,
    }
    if "offline.access" in scope.split():
        refresh_token = secrets.token_urlsafe(32)
        state.refresh_grants[refresh_token] = RefreshGrant(
            user_id=user_id, client_id=client_id, scope=scope, client_secret=client_secret
        )
        body["refresh_token"] = refresh_token
    return body


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` from an ``Authorization: Basic`` header."""
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, client_secret = decoded.partition(":")
    return (client_id, client_secret) if sep and client_id else None


async def form_fields(request: Request) -> dict[str, str]:
    """The form-encoded body (first value of each field); empty for any other body."""
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return {}
    parsed = parse_qs((await request.body()).decode(errors="replace"))
    return {key: values[0] for key, values in parsed.items() if values}


def add_oauth_routes(app: FastAPI, state: XState) -> None:
    core = state.core

    @app.post("/2/oauth2/token")
    async def token(request: Request) -> JSONResponse:
        form = await form_fields(request)
        grant_type = form.get("grant_type")
        if not grant_type:
            body = oauth_error("invalid_request", "Missing required parameter [grant_type].")
            return JSONResponse(body, 400)
        if grant_type != "refresh_token":
            # The authorization-code step needs a browser; tests get tokens from
            # /_emulator/tokens instead.
            body = oauth_error("unsupported_grant_type", f"{grant_type} is not emulated")
            return JSONResponse(body, 400)
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            body = oauth_error("invalid_request", "Missing required parameter [refresh_token].")
            return JSONResponse(body, 400)
        basic = basic_credentials(request)
        client_id = basic[0] if basic else form.get("client_id")
        if not client_id:
            return unauthorized_client()
        grant = state.refresh_grants.get(refresh_token)
        outcome = "refreshed"
        if grant is None or grant.client_id != client_id:
            outcome = "invalid_token"
        elif grant.client_secret is not None and (
            basic is None or not secrets.compare_digest(basic[1], grant.client_secret)
        ):
            outcome = "unauthorized_client"
        # The log names the outcome, never a token.
        core.sent.append(
            {
                "endpoint": REFRESH_LOG_ENDPOINT,
                "grant_type": grant_type,
                "client_id": client_id,
                "confidential": basic is not None,
                "user_id": grant.user_id if grant else None,
                "outcome": outcome,
                "at": core.clock.now().isoformat(),
            }
        )
        if outcome == "invalid_token" or grant is None:
            return invalid_token()
        if outcome == "unauthorized_client":
            return unauthorized_client()
        del state.refresh_grants[refresh_token]
        issued = issue_tokens(
            state,
            grant.user_id,
            client_id=grant.client_id,
            client_secret=grant.client_secret,
            scope=grant.scope,
        )
        return JSONResponse(issued, 200, {"cache-control": "no-store"})

    @app.post("/_emulator/tokens", tags=["emulator"])
    async def issue_token(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        user_id = str(spec.get("user_id", ""))
        if user_id not in state.users:
            raise HTTPException(404, "unknown user_id")
        secret = spec.get("client_secret")
        return issue_tokens(
            state,
            user_id,
            client_id=str(spec.get("client_id") or DEFAULT_CLIENT_ID),
            client_secret=str(secret) if secret else None,
            scope=str(spec.get("scope") or DEFAULT_SCOPE),
            expires_in=int(spec.get("expires_in", ACCESS_TOKEN_SECONDS)),
        )

    @app.post("/_emulator/tokens/expire", tags=["emulator"])
    async def expire_token(spec: dict[str, Any] = Body(...)) -> dict[str, int]:
        hits = [
            t
            for t, (uid, _) in state.tokens.items()
            if t == spec.get("access_token") or uid == str(spec.get("user_id", ""))
        ]
        for token in hits:
            state.tokens[token] = (state.tokens[token][0], 0.0)
        return {"expired": len(hits)}

    @app.post("/_emulator/tokens/revoke", tags=["emulator"])
    async def revoke_user_tokens(spec: dict[str, Any] = Body(...)) -> dict[str, int]:
        user_id = str(spec.get("user_id", ""))
        access = [t for t, (uid, _) in state.tokens.items() if uid == user_id]
        refresh = [t for t, g in state.refresh_grants.items() if g.user_id == user_id]
        for token in access:
            del state.tokens[token]
        for token in refresh:
            del state.refresh_grants[token]
        return {"revoked_access_tokens": len(access), "revoked_refresh_tokens": len(refresh)}
