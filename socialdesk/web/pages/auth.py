"""Sign-in and sign-out."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from socialdesk.actions.web_sessions import end_session, start_session
from socialdesk.auth.throttle import check_credentials
from socialdesk.store.db import Database
from socialdesk.web.client_address import client_address
from socialdesk.web.pages.common import render
from socialdesk.web.sessions import (
    SESSION_COOKIE,
    FormUser,
    login_csrf_token,
    set_login_csrf_cookie,
    set_session_cookie,
)

router = APIRouter(include_in_schema=False)


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") else "/inbox"


def _form(
    request: Request, *, error: str = "", email: str = "", next_: str = "/inbox", status: int = 200
) -> Response:
    token = login_csrf_token(request)
    response = render(
        request,
        "login.html",
        None,
        status_code=status,
        error=error,
        email=email,
        next=_safe_next(next_),
        login_csrf=token,
    )
    set_login_csrf_cookie(request, response, token)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/inbox") -> Response:
    return _form(request, next_=next)


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/inbox",
) -> Response:
    cookie = request.cookies.get("socialdesk_login_csrf", "")
    if not cookie or not csrf_token or not hmac.compare_digest(cookie, csrf_token):
        return _form(request, error="The form expired; please try again.", email=email, status=403)
    database: Database = request.app.state.db
    result = check_credentials(database, email, password, client_address(request))
    if result.locked is not None:
        response = _form(
            request,
            error=f"Too many failed sign-ins: locked; try again in {result.locked.wait}.",
            email=email,
            status=429,
        )
        response.headers["Retry-After"] = str(result.locked.retry_after)
        return response
    user = result.user
    if user is None or not user.is_active:
        return _form(request, error="Wrong e-mail or password.", email=email, status=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(request, response, start_session(database, user.id))
    response.delete_cookie("socialdesk_login_csrf", path="/login")
    return response


@router.post("/logout")
def logout(request: Request, user: FormUser) -> Response:
    end_session(request.app.state.db, user.session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
