"""Settings → Canned responses (admins and leads)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from socialdesk.actions import inbox as inbox_actions
from socialdesk.actions.recording import ActionError
from socialdesk.store.db import Database
from socialdesk.store.models import CannedResponse
from socialdesk.web.pages.common import action_error
from socialdesk.web.pages.settings.base import ADMIN_LEAD, actor, page, require
from socialdesk.web.sessions import FormUser, PageUser

router = APIRouter(include_in_schema=False)


@router.get("/settings/canned", response_class=HTMLResponse)
def canned_page(request: Request, user: PageUser) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    with database.session() as s:
        canned = list(
            s.scalars(
                select(CannedResponse)
                .where(CannedResponse.workspace_id.in_(user.workspace_ids))
                .order_by(CannedResponse.shortcut)
            )
        )
    return page(request, user, "settings_canned.html", "canned", canned=canned)


@router.post("/settings/canned")
def save_canned(
    request: Request,
    user: FormUser,
    shortcut: Annotated[str, Form(max_length=40)],
    body: Annotated[str, Form(max_length=5000)],
    title: Annotated[str, Form(max_length=200)] = "",
    short_body: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    with database.write() as s:
        try:
            inbox_actions.save_canned_response(
                s,
                actor(s, user),
                user.workspace_ids[0],
                shortcut=shortcut,
                body=body,
                title=title,
                short_body=short_body,
            )
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings/canned", status_code=303)
