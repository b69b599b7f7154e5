"""Canned responses over the API: everyone who answers reads them (the composer inserts
them by ``/shortcut``); admins and leads create, edit and delete them (the action's rule)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions import inbox as inbox_actions
from socialdesk.knowledge.short_variants import Variant, variants
from socialdesk.store.models import CannedResponse, User
from socialdesk.web.api.params import DbId, IdPath
from socialdesk.web.api.schemas import PatchModel
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(prefix="/canned-responses", tags=["canned responses"])


class CannedIn(BaseModel):
    shortcut: str = Field(min_length=1, max_length=40)
    body: str = Field(min_length=1, max_length=5000)
    title: str = Field(default="", max_length=200)
    # Used where the network's limit is small (X, Bluesky); the body elsewhere.
    short_body: str | None = Field(default=None, max_length=1000)
    category: str = Field(default="", max_length=80)
    workspace_id: DbId | None = None


class CannedPatch(PatchModel):
    nullable = frozenset({"short_body"})
    shortcut: str | None = Field(default=None, min_length=1, max_length=40)
    body: str | None = Field(default=None, min_length=1, max_length=5000)
    title: str | None = Field(default=None, max_length=200)
    short_body: str | None = Field(default=None, max_length=1000)
    category: str | None = Field(default=None, max_length=80)


class CannedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    workspace_id: int
    shortcut: str
    title: str
    body: str
    short_body: str | None
    category: str
    usage_count: int
    last_used_at: datetime | None
    created_at: datetime


class VariantOut(BaseModel):
    network: str
    text: str
    length: int
    limit: int | None
    unit: str
    fits: bool
    source: str  # "short_body", "body" or "shortened"


def _visible(session: Session, user: User, canned_id: int) -> CannedResponse:
    canned = session.get(CannedResponse, canned_id)
    if canned is None or canned.workspace_id not in workspace_ids(session, user):
        raise ApiError(404, f"canned response {canned_id} not found")
    return canned


@router.get("", response_model=list[CannedOut])
def list_(
    session: ReadSession,
    user: CurrentUser,
    category: Annotated[str | None, Query(max_length=80)] = None,
) -> list[CannedResponse]:
    """All of them, by shortcut; ``category`` keeps one category ("" those without)."""
    query = select(CannedResponse).where(
        CannedResponse.workspace_id.in_(workspace_ids(session, user))
    )
    if category is not None:
        query = query.where(CannedResponse.category == " ".join(category.split()))
    return list(session.scalars(query.order_by(CannedResponse.shortcut, CannedResponse.id)))


@router.get("/{canned_id}", response_model=CannedOut)
def get(canned_id: IdPath, session: ReadSession, user: CurrentUser) -> CannedResponse:
    return _visible(session, user, canned_id)


@router.get("/{canned_id}/variants", response_model=list[VariantOut])
def get_variants(canned_id: IdPath, session: ReadSession, user: CurrentUser) -> list[Variant]:
    """A suggested short text per network with a small limit (X, Bluesky, Mastodon), each
    measured by that network's length rule: the short variant or the text where it fits,
    else the text shortened to its leading sentences."""
    canned = _visible(session, user, canned_id)
    return variants(canned.body, canned.short_body)


@router.post("", response_model=CannedOut, status_code=201)
def create(body: CannedIn, session: WriteSession, user: CurrentUser) -> CannedResponse:
    allowed = workspace_ids(session, user)
    workspace_id = body.workspace_id if body.workspace_id is not None else next(iter(allowed), None)
    if workspace_id is None or workspace_id not in allowed:
        raise ApiError(403, f"you are not a member of workspace {body.workspace_id}")
    return inbox_actions.save_canned_response(
        session,
        user,
        workspace_id,
        shortcut=body.shortcut,
        body=body.body,
        title=body.title,
        short_body=body.short_body,
        category=body.category,
    )


@router.patch("/{canned_id}", response_model=CannedOut)
def update(
    canned_id: IdPath, body: CannedPatch, session: WriteSession, user: CurrentUser
) -> CannedResponse:
    """Change any of the fields; ``short_body: null`` removes the short variant."""
    canned = _visible(session, user, canned_id)
    given = body.model_fields_set
    return inbox_actions.save_canned_response(
        session,
        user,
        canned.workspace_id,
        shortcut=body.shortcut if "shortcut" in given and body.shortcut else canned.shortcut,
        body=body.body if "body" in given and body.body else canned.body,
        title=body.title if "title" in given and body.title is not None else canned.title,
        short_body=body.short_body if "short_body" in given else canned.short_body,
        canned_id=canned.id,
        category=body.category
        if "category" in given and body.category is not None
        else canned.category,
    )


@router.delete("/{canned_id}", status_code=204)
def delete(canned_id: IdPath, session: WriteSession, user: CurrentUser) -> Response:
    inbox_actions.delete_canned_response(session, user, _visible(session, user, canned_id))
    return Response(status_code=204)
