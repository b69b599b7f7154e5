"""Settings → General: the workspace, its e-mail display settings and the health of its
channel accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from socialdesk.actions.email_settings import email_settings, update_email_settings
from socialdesk.actions.recording import ActionError
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, Workspace
from socialdesk.web.pages.common import PageError, action_error
from socialdesk.web.pages.settings.base import ADMIN, actor, page, require
from socialdesk.web.sessions import FormUser, PageUser

router = APIRouter(include_in_schema=False)


@router.get("/settings", response_class=HTMLResponse)
def general(request: Request, user: PageUser) -> Response:
    if user.role == "lead":
        # Leads manage teams, SLA policies and canned responses; start them there.
        return RedirectResponse("/settings/teams", status_code=303)
    require(user, ADMIN)
    database: Database = request.app.state.db
    with database.session() as s:
        workspaces = list(s.scalars(select(Workspace).where(Workspace.id.in_(user.workspace_ids))))
        accounts = list(
            s.scalars(
                select(ChannelAccount)
                .where(ChannelAccount.workspace_id.in_(user.workspace_ids))
                .order_by(ChannelAccount.platform, ChannelAccount.handle)
            )
        )
        mail = email_settings(workspaces[0] if workspaces else None)
    return page(
        request,
        user,
        "settings_general.html",
        "general",
        workspaces=workspaces,
        accounts=accounts,
        mail=mail,
    )


@router.post("/settings/email")
def email_display(
    request: Request, user: FormUser, signatures: Annotated[str, Form()] = ""
) -> Response:
    require(user, ADMIN)
    database: Database = request.app.state.db
    with database.write() as s:
        workspace = s.get(Workspace, user.workspace_ids[0]) if user.workspace_ids else None
        if workspace is None:
            raise PageError(404, "You are not a member of any workspace.")
        try:
            update_email_settings(s, actor(s, user), workspace, {"signatures": signatures})
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings#email", status_code=303)
