"""Settings → Audit log (admins): newest first, filter by actor and action, keyset pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from socialdesk.store.db import Database
from socialdesk.store.models import AuditEntry
from socialdesk.web.api.params import parse_id
from socialdesk.web.pages.settings.base import ADMIN, page, require, workspace_users
from socialdesk.web.sessions import PageUser

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/settings/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    user: PageUser,
    actor: Annotated[str, Query(max_length=20)] = "",
    action: Annotated[str, Query(max_length=60)] = "",
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """``actor`` is a user id or ``system``; ``action`` matches exactly or, ending in a
    dot (``ticket.``), as a prefix; ``before`` is the last id of the previous page."""
    require(user, ADMIN)
    database: Database = request.app.state.db
    # Only this admin's workspaces: every entry carries its workspace (a change to a
    # person is recorded in each workspace they belong to), as in GET /api/v1/audit.
    query = select(AuditEntry).where(AuditEntry.workspace_id.in_(user.workspace_ids))
    if actor == "system":
        query = query.where(AuditEntry.actor_user_id.is_(None))
    elif (actor_id := parse_id(actor)) is not None:
        query = query.where(AuditEntry.actor_user_id == actor_id)
    action = action.strip()
    if action.endswith("."):
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    elif action:
        query = query.where(AuditEntry.action == action)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    with database.session() as s:
        rows = list(s.scalars(query.order_by(AuditEntry.id.desc()).limit(PAGE_SIZE + 1)))
        people = workspace_users(s, user)
    entries, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    names = {p.id: p.name or p.email for p in people}
    areas = sorted({e.action.split(".")[0] + "." for e in entries} | {"ticket.", "user.", "team."})
    return page(
        request,
        user,
        "settings_audit.html",
        "audit",
        entries=entries,
        names=names,
        people=people,
        actor=actor,
        action=action,
        areas=areas,
        next_before=entries[-1].id if more and entries else None,
        first_page=before is None,
    )
