"""Settings → General: the workspace and the health of its channel accounts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, Workspace
from socialdesk.web.pages.settings.base import ADMIN, page, require
from socialdesk.web.sessions import PageUser

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
    return page(
        request, user, "settings_general.html", "general", workspaces=workspaces, accounts=accounts
    )
