"""Saved inbox filters over the API: the caller's own and the workspace's shared ones,
each with its live ticket count (or an ``error`` when it cannot run); create (run once
first: one that cannot run is refused, 422); delete (own, or any shared one by an admin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from socialdesk.actions import saved_filters as saved_actions
from socialdesk.store.models import SavedFilter
from socialdesk.web.api.params import DbId, IdPath
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, workspace_ids
from socialdesk.web.errors import ApiError
from socialdesk.web.pages.inbox import saved_counts

router = APIRouter(prefix="/saved-filters", tags=["saved filters"])
SKIPPED = "this filter cannot run; it is skipped (its owner or an admin can delete it)"


class SavedFilterIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    # The inbox's query-string filters: view, channel, account, team, tag, sort, q.
    query: dict[str, Any] = Field(default_factory=dict)
    shared: bool = False
    workspace_id: DbId | None = None


class SavedFilterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    workspace_id: int
    user_id: int
    name: str
    query: dict[str, Any]
    shared: bool
    created_at: datetime
    # None with "error" set when the filter cannot run (it is skipped, never a 500).
    count: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Viewer:
    id: int
    workspace_ids: tuple[int, ...]


@router.get("", response_model=list[SavedFilterOut])
def list_(session: ReadSession, user: CurrentUser) -> list[SavedFilterOut]:
    viewer = _Viewer(user.id, tuple(workspace_ids(session, user)))
    found = saved_actions.visible_filters(session, user.id, viewer.workspace_ids)
    counts = saved_counts(session, viewer, found)
    return [
        SavedFilterOut.model_validate(s).model_copy(
            update={"count": counts[s.id]} if s.id in counts else {"error": SKIPPED}
        )
        for s in found
    ]


@router.post("", response_model=SavedFilterOut, status_code=201)
def create(body: SavedFilterIn, session: WriteSession, user: CurrentUser) -> SavedFilter:
    allowed = workspace_ids(session, user)
    workspace_id = body.workspace_id if body.workspace_id is not None else next(iter(allowed), None)
    if workspace_id is None or workspace_id not in allowed:
        raise ApiError(403, f"you are not a member of workspace {body.workspace_id}")
    return saved_actions.save_filter(
        session, user, workspace_id, body.name, body.query, shared=body.shared
    )


@router.delete("/{filter_id}", status_code=204)
def delete(filter_id: IdPath, session: WriteSession, user: CurrentUser) -> Response:
    saved = session.get(SavedFilter, filter_id)
    visible = saved is not None and saved.workspace_id in workspace_ids(session, user)
    if saved is None or not visible or (saved.user_id != user.id and not saved.shared):
        raise ApiError(404, f"saved filter {filter_id} not found")
    saved_actions.delete_filter(session, user, saved)
    return Response(status_code=204)
