"""Saved filters from the inbox sidebar: save the current filter set under a name,
rename or share it, delete it (``actions.saved_filters``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from socialdesk.actions import saved_filters as saved_actions
from socialdesk.actions.recording import ActionError
from socialdesk.store.db import Database
from socialdesk.store.models import SavedFilter, User
from socialdesk.web.api.params import IdPath
from socialdesk.web.pages.common import PageError, action_error, require_writer
from socialdesk.web.pages.inbox import forget_counts
from socialdesk.web.sessions import FormUser

router = APIRouter(include_in_schema=False)


@router.post("/inbox/saved-filters")
def save(
    request: Request,
    user: FormUser,
    name: Annotated[str, Form(max_length=200)],
    shared: Annotated[str, Form()] = "",
    view: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "",
    account: Annotated[str, Form()] = "",
    team: Annotated[str, Form()] = "",
    tag: Annotated[str, Form(max_length=200)] = "",
    q: Annotated[str, Form(max_length=400)] = "",
    sort: Annotated[str, Form()] = "",
) -> Response:
    require_writer(user)
    if not user.workspace_ids:
        raise PageError(403, "You are not a member of any workspace.")
    query = {
        "view": view, "channel": channel, "account": account, "team": team,
        "tag": tag, "q": q, "sort": sort,
    }  # fmt: skip
    database: Database = request.app.state.db
    with database.write() as session:
        actor = session.get(User, user.id)
        assert actor is not None
        try:
            saved = saved_actions.save_filter(
                session, actor, user.workspace_ids[0], name, query, shared=bool(shared)
            )
        except ActionError as exc:
            raise action_error(exc) from exc
        target = "/inbox?" + urlencode({"view": "open", **saved.query})
    forget_counts()
    return RedirectResponse(target, status_code=303)


@router.post("/inbox/saved-filters/{filter_id}")
def change(
    request: Request,
    filter_id: IdPath,
    user: FormUser,
    action: Annotated[str, Form()] = "rename",
    name: Annotated[str, Form(max_length=200)] = "",
    shared: Annotated[str, Form()] = "",
) -> Response:
    """``action=rename`` (with ``name`` and the ``shared`` checkbox) or ``delete``."""
    require_writer(user)
    database: Database = request.app.state.db
    with database.write() as session:
        saved = session.get(SavedFilter, filter_id)
        if saved is None or saved.workspace_id not in user.workspace_ids:
            raise PageError(404, "That saved filter does not exist.")
        actor = session.get(User, user.id)
        assert actor is not None
        try:
            if action == "delete":
                saved_actions.delete_filter(session, actor, saved)
                target = "/inbox"
            else:
                saved_actions.rename_filter(session, actor, saved, name, shared=bool(shared))
                target = "/inbox?" + urlencode({"view": "open", **saved.query})
        except ActionError as exc:
            raise action_error(exc) from exc
    forget_counts()
    return RedirectResponse(target, status_code=303)
