"""Your account: change your own password, see and revoke your API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from socialdesk.actions.credentials import change_password, revoke_token
from socialdesk.actions.profile import set_time_zone
from socialdesk.actions.recording import ActionError
from socialdesk.auth.throttle import lock_state, record_failure
from socialdesk.domain.time_zones import zone_names
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import ApiToken, User
from socialdesk.web.api.params import IdPath
from socialdesk.web.client_address import client_address
from socialdesk.web.pages.common import render
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)


def _page(
    request: Request, user: WebUser, *, status: int = 200, error: str = "", done: str = ""
) -> Response:
    database: Database = request.app.state.db
    with database.session() as s:
        tokens = list(
            s.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
        )
        s.expunge_all()
    return render(
        request,
        "account.html",
        user,
        status_code=status,
        nav="account",
        tokens=tokens,
        zones=zone_names(),
        now=utcnow(),
        error=error,
        done=done,
    )


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, user: PageUser, saved: str = "") -> Response:
    return _page(request, user, done="Time zone saved." if saved == "time-zone" else "")


@router.post("/account/password")
def password(
    request: Request,
    user: FormUser,
    current_password: Annotated[str, Form(max_length=1024)],
    new_password: Annotated[str, Form(max_length=1024)],
) -> Response:
    database: Database = request.app.state.db
    address = client_address(request)
    locked = lock_state(database, user.email, address)
    if locked is not None:
        response = _page(
            request, user, status=429, error=f"Too many failed tries; try again in {locked.wait}."
        )
        response.headers["Retry-After"] = str(locked.retry_after)
        return response
    try:
        with database.write() as s:
            me = s.get(User, user.id)
            assert me is not None
            ended = change_password(
                s, me, current_password, new_password, keep_session_id=user.session_id
            )
    except ActionError as exc:
        if exc.status_code == 403:  # a wrong current password counts as a failed sign-in
            record_failure(database, user.email, address)
        return _page(request, user, status=exc.status_code, error=exc.message.capitalize() + ".")
    others = f" {ended} other session{'s' * (ended != 1)} and token{'s' * (ended != 1)} ended."
    return _page(request, user, done="Password changed." + (others if ended else ""))


@router.post("/account/time-zone")
def time_zone(
    request: Request, user: FormUser, time_zone: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    database: Database = request.app.state.db
    try:
        with database.write() as s:
            me = s.get(User, user.id)
            assert me is not None
            set_time_zone(s, me, time_zone)
    except ActionError as exc:
        return _page(request, user, status=exc.status_code, error=exc.message.capitalize() + ".")
    # The page shows the new zone at once (the session's user was read before the change).
    return RedirectResponse("/account?saved=time-zone", status_code=303)


@router.post("/account/tokens/{token_id}/revoke")
def revoke(request: Request, user: FormUser, token_id: IdPath) -> Response:
    database: Database = request.app.state.db
    try:
        with database.write() as s:
            me = s.get(User, user.id)
            assert me is not None
            token = s.get(ApiToken, token_id)
            if token is None or token.user_id != user.id:
                raise ActionError(f"no token {token_id}", 404)
            revoke_token(s, me, token_id)
    except ActionError as exc:
        return _page(request, user, status=exc.status_code, error=exc.message.capitalize() + ".")
    return _page(request, user, done="Token revoked.")
