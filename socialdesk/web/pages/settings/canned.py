"""Settings → Canned responses (admins and leads)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from socialdesk.actions import inbox as inbox_actions
from socialdesk.actions.recording import ActionError
from socialdesk.knowledge.short_variants import variants
from socialdesk.store.db import Database
from socialdesk.store.models import CannedResponse
from socialdesk.web.api.params import IdPath
from socialdesk.web.pages.common import PageError, action_error
from socialdesk.web.pages.settings.base import ADMIN_LEAD, actor, page, require
from socialdesk.web.sessions import FormUser, PageUser

router = APIRouter(include_in_schema=False)


@router.get("/settings/canned", response_class=HTMLResponse)
def canned_page(
    request: Request,
    user: PageUser,
    title: Annotated[str, Query(max_length=200)] = "",
    body: Annotated[str, Query(max_length=5000)] = "",
    category: Annotated[str, Query(max_length=80)] = "",
) -> Response:
    """The list by category, with usage and short variants per network; ``title``,
    ``body`` and ``category`` pre-fill the new answer's form (the FAQ finder's link)."""
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    with database.session() as s:
        canned = list(
            s.scalars(
                select(CannedResponse)
                .where(CannedResponse.workspace_id.in_(user.workspace_ids))
                .order_by(CannedResponse.category, CannedResponse.shortcut)
            )
        )
        s.expunge_all()
    notice = {"saved": "Canned response saved.", "deleted": "Canned response deleted."}.get(
        request.query_params.get("done", "")
    )
    return page(
        request,
        user,
        "settings_canned.html",
        "canned",
        canned=canned,
        variants={c.id: variants(c.body, c.short_body) for c in canned},
        categories=sorted({c.category for c in canned if c.category}),
        prefill={"title": title, "body": body, "category": category},
        notice=notice,
    )


@router.post("/settings/canned")
def add_canned(
    request: Request,
    user: FormUser,
    shortcut: Annotated[str, Form(max_length=40)],
    body: Annotated[str, Form(max_length=5000)],
    title: Annotated[str, Form(max_length=200)] = "",
    short_body: Annotated[str, Form(max_length=1000)] = "",
    category: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    return _save(request, user, None, shortcut, body, title, short_body, category)


@router.post("/settings/canned/{canned_id}")
def edit_canned(
    request: Request,
    user: FormUser,
    canned_id: IdPath,
    shortcut: Annotated[str, Form(max_length=40)],
    body: Annotated[str, Form(max_length=5000)],
    title: Annotated[str, Form(max_length=200)] = "",
    short_body: Annotated[str, Form(max_length=1000)] = "",
    category: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    return _save(request, user, canned_id, shortcut, body, title, short_body, category)


@router.post("/settings/canned/{canned_id}/delete")
def delete_canned(request: Request, user: FormUser, canned_id: IdPath) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    with database.write() as s:
        canned = s.get(CannedResponse, canned_id)
        if canned is None or canned.workspace_id not in user.workspace_ids:
            raise PageError(404, "That canned response does not exist (any more).")
        try:
            inbox_actions.delete_canned_response(s, actor(s, user), canned)
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings/canned?done=deleted", status_code=303)


def _save(
    request: Request,
    user: FormUser,
    canned_id: int | None,
    shortcut: str,
    body: str,
    title: str,
    short_body: str,
    category: str,
) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    with database.write() as s:
        workspace_id = user.workspace_ids[0]
        if canned_id is not None:
            found = s.get(CannedResponse, canned_id)
            if found is None or found.workspace_id not in user.workspace_ids:
                raise PageError(404, "That canned response does not exist (any more).")
            workspace_id = found.workspace_id
        try:
            inbox_actions.save_canned_response(
                s,
                actor(s, user),
                workspace_id,
                shortcut=shortcut,
                body=body,
                title=title,
                short_body=short_body,
                canned_id=canned_id,
                category=category,
            )
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings/canned?done=saved", status_code=303)
