"""``/api/v1/triage/topics``: the workspace's own topic list that triage labels
messages with (defaults until a lead sets one)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from socialdesk.actions.triage_topics import set_topics, uses_default_topics, workspace_topics
from socialdesk.triage.topics import MAX_KEYWORD, MAX_KEYWORDS, MAX_NAME, MAX_TOPICS
from socialdesk.web.api.email_settings import _workspace
from socialdesk.web.api.params import DbId
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession

router = APIRouter(prefix="/triage", tags=["triage"])


class TopicIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
    keywords: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=MAX_KEYWORD)]],
        Field(min_length=1, max_length=MAX_KEYWORDS),
    ]


class TopicsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # An empty list goes back to the built-in defaults.
    topics: Annotated[list[TopicIn], Field(max_length=MAX_TOPICS)]


def _answer(topics: list[dict[str, Any]], default: bool) -> dict[str, Any]:
    return {"topics": topics, "default": default}


@router.get("/topics", summary="The topics triage labels this workspace's messages with")
def get_topics(
    session: ReadSession, user: CurrentUser, workspace: DbId | None = None
) -> dict[str, Any]:
    ws = _workspace(session, user, workspace)
    return _answer(workspace_topics(ws), uses_default_topics(ws))


@router.put("/topics", summary="Replace the workspace's topic list (admins and leads)")
def put_topics(
    body: TopicsIn, session: WriteSession, user: CurrentUser, workspace: DbId | None = None
) -> dict[str, Any]:
    """New messages are labelled with the list from then on (inline and encoder
    passes); messages already labelled keep their topic. `[]` restores the defaults."""
    ws = _workspace(session, user, workspace)
    topics = set_topics(session, user, ws, [t.model_dump() for t in body.topics])
    return _answer(topics, uses_default_topics(ws))
