"""Settings → Failed deliveries (admins): webhook deliveries and polled posts that could
not become messages, each with its reason, and a Retry button (one, or all)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from socialdesk.actions import raw_events as raw_actions
from socialdesk.actions.recording import ActionError
from socialdesk.domain.enums import RawEventStatus
from socialdesk.store.db import Database
from socialdesk.store.repos.raw_events import count_raw_events, list_raw_events
from socialdesk.web.pages.common import action_error
from socialdesk.web.pages.settings.base import ADMIN, actor, page, require
from socialdesk.web.sessions import FormUser, PageUser

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
FAILED = str(RawEventStatus.FAILED)


@router.get("/settings/deliveries", response_class=HTMLResponse)
def deliveries_page(
    request: Request,
    user: PageUser,
    before: Annotated[int | None, Query(ge=1)] = None,
    retried: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    require(user, ADMIN)
    database: Database = request.app.state.db
    with database.session() as s:
        rows = list_raw_events(
            s, status=FAILED, workspace_ids=user.workspace_ids, limit=PAGE_SIZE + 1, before=before
        )
        total = count_raw_events(s, status=FAILED, workspace_ids=user.workspace_ids)
        waiting = count_raw_events(
            s, status=str(RawEventStatus.PENDING), workspace_ids=user.workspace_ids
        )
    events, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    return page(
        request,
        user,
        "settings_deliveries.html",
        "deliveries",
        events=events,
        total=total,
        waiting=waiting,
        retried=retried,
        next_before=events[-1].id if more and events else None,
        first_page=before is None,
    )


@router.post("/settings/deliveries/retry")
def retry_deliveries(
    request: Request,
    user: FormUser,
    raw_event_id: Annotated[int | None, Form(ge=1)] = None,
) -> Response:
    """One failed delivery (``raw_event_id``) or, without it, every failed one."""
    require(user, ADMIN)
    database: Database = request.app.state.db
    with database.write() as s:
        try:
            if raw_event_id is None:
                count = len(raw_actions.retry_raw_events(s, actor(s, user), user.workspace_ids))
            else:
                raw_actions.retry_raw_event(s, actor(s, user), raw_event_id, user.workspace_ids)
                count = 1
        except ActionError as exc:
            raise action_error(exc) from exc
    worker = getattr(request.app.state, "raw_event_worker", None)
    if worker is not None:
        worker.kick()
    return RedirectResponse(f"/settings/deliveries?retried={count}", status_code=303)
