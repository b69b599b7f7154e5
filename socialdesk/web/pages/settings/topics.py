"""Settings → Topics: the workspace's own topic list that triage labels messages with,
one topic a line ("Lost luggage: bag, baggage, suitcase"), through the same action as
``PUT /api/v1/triage/topics``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from socialdesk.actions.recording import ActionError
from socialdesk.actions.triage_topics import set_topics, uses_default_topics, workspace_topics
from socialdesk.store.db import Database
from socialdesk.store.models import Workspace
from socialdesk.triage.topics import TopicError, parse_topic_lines
from socialdesk.web.pages.common import PageError
from socialdesk.web.pages.settings.base import ADMIN_LEAD, actor, page, require
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)


def _lines(topics: list[dict[str, object]]) -> str:
    return "\n".join(f"{t['name']}: {', '.join(t['keywords'])}" for t in topics)  # type: ignore[arg-type]


def _workspace(database: Database, user: WebUser) -> tuple[list[dict[str, object]], bool]:
    with database.session() as s:
        workspace = s.get(Workspace, user.workspace_ids[0]) if user.workspace_ids else None
        if workspace is None:
            raise PageError(404, "You are not a member of any workspace.")
        return workspace_topics(workspace), uses_default_topics(workspace)


@router.get("/settings/topics", response_class=HTMLResponse)
def topics_page(request: Request, user: PageUser) -> Response:
    require(user, ADMIN_LEAD)
    topics, default = _workspace(request.app.state.db, user)
    saved = request.query_params.get("saved") == "1"
    return page(
        request, user, "settings_topics.html", "topics",
        text=_lines(topics), default=default, topics=topics,
        notice="Topics saved: new messages are labelled with them." if saved else None,
    )  # fmt: skip


@router.post("/settings/topics")
def save_topics(
    request: Request,
    user: FormUser,
    topics: Annotated[str, Form(max_length=20_000)] = "",
    restore: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    try:
        items = [] if restore else parse_topic_lines(topics)
        with database.write() as s:
            workspace = s.get(Workspace, user.workspace_ids[0]) if user.workspace_ids else None
            if workspace is None:
                raise PageError(404, "You are not a member of any workspace.")
            set_topics(s, actor(s, user), workspace, items)
    except (TopicError, ActionError) as exc:
        current, default = _workspace(database, user)
        return page(
            request, user, "settings_topics.html", "topics", status_code=422,
            text=topics, default=default, topics=current, error=str(exc),
        )  # fmt: skip
    return RedirectResponse("/settings/topics?saved=1", status_code=303)
