"""Listening over the API: saved searches (``/listening/searches``, managed by leads,
admins and marketing) and the Mentions stream (``/mentions``): filter it, make a mention
a ticket, reply to it (a ticket and the reply), or dismiss it. Thin: the rules are in
``socialdesk/listening``; an ``ActionError`` becomes a 4xx with its reason."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from socialdesk.listening import mentions as mention_actions
from socialdesk.listening import searches as search_actions
from socialdesk.store.models import ListeningMention, ListeningSearch, User
from socialdesk.web.api.params import DbId, IdPath
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(tags=["listening"])

Terms = list[str] | None


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    keywords: Terms = None
    hashtags: Terms = None
    brands: Terms = None
    misspellings: Terms = None
    exclusions: Terms = None
    account_ids: list[DbId] | None = None
    enabled: bool | None = None
    interval_seconds: int | None = Field(default=None, ge=1, le=86_400 * 7)
    workspace_id: DbId | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"workspace_id"})


class ReplyIn(BaseModel):
    body: str = Field(min_length=1, max_length=10_000)
    confirm: bool = False


def _workspace(session: ReadSession, user: User, wanted: int | None) -> int:
    allowed = workspace_ids(session, user)
    workspace_id = wanted if wanted is not None else next(iter(allowed), None)
    if workspace_id is None or workspace_id not in allowed:
        raise ApiError(403, f"you are not a member of workspace {wanted}")
    return workspace_id


def _search(session: ReadSession, user: User, search_id: int) -> ListeningSearch:
    search = session.get(ListeningSearch, search_id)
    if search is None or search.workspace_id not in workspace_ids(session, user):
        raise ApiError(404, f"saved search {search_id} not found")
    return search


def _mention(session: ReadSession, user: User, mention_id: int) -> ListeningMention:
    mention = session.get(ListeningMention, mention_id)
    if mention is None or mention.workspace_id not in workspace_ids(session, user):
        raise ApiError(404, f"mention {mention_id} not found")
    return mention


@router.get("/listening/searches")
def list_searches(session: ReadSession, user: CurrentUser) -> list[dict[str, Any]]:
    found = session.scalars(
        select(ListeningSearch)
        .where(ListeningSearch.workspace_id.in_(workspace_ids(session, user)))
        .order_by(ListeningSearch.name, ListeningSearch.id)
    )
    return [search_actions.search_json(s) for s in found]


@router.post("/listening/searches", status_code=201)
def create_search(body: SearchIn, session: WriteSession, user: CurrentUser) -> dict[str, Any]:
    workspace_id = _workspace(session, user, body.workspace_id)
    search = search_actions.create_search(session, user, workspace_id, body.changes())
    return search_actions.search_json(search)


@router.get("/listening/searches/{search_id}")
def get_search(search_id: IdPath, session: ReadSession, user: CurrentUser) -> dict[str, Any]:
    return search_actions.search_json(_search(session, user, search_id))


@router.patch("/listening/searches/{search_id}")
def update_search(
    search_id: IdPath, body: SearchIn, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    search = _search(session, user, search_id)
    updated = search_actions.update_search(session, user, search, body.changes())
    return search_actions.search_json(updated)


@router.delete("/listening/searches/{search_id}", status_code=204)
def delete_search(search_id: IdPath, session: WriteSession, user: CurrentUser) -> Response:
    search_actions.delete_search(session, user, _search(session, user, search_id))
    return Response(status_code=204)


@router.get("/mentions")
def list_mentions(
    session: ReadSession,
    user: CurrentUser,
    q: str | None = Query(default=None, max_length=mention_actions.MAX_Q),
    network: Literal["x", "mastodon", "bluesky"] | None = None,
    sentiment: Literal["negative", "neutral", "positive"] | None = None,
    status: Literal["new", "ticketed", "dismissed", "all"] = "new",
    search_id: DbId | None = None,
    before_id: DbId | None = None,
    limit: int = Query(default=50, ge=1, le=200),
) -> dict[str, Any]:
    try:
        found = mention_actions.list_mentions(
            session,
            mention_actions.MentionFilter(
                workspace_ids=workspace_ids(session, user),
                q=q.strip() if q and q.strip() else None,
                network=network,
                sentiment=sentiment,
                status=None if status == "all" else status,
                search_id=search_id,
                before_id=before_id,
            ),
            limit=limit,
        )
    except ValueError as exc:
        raise ApiError(422, str(exc)) from exc
    items = [mention_actions.mention_json(m) for m in found]
    return {"mentions": items, "next_before_id": found[-1].id if len(found) == limit else None}


@router.post("/mentions/{mention_id}/ticket")
def make_ticket(
    mention_id: IdPath, request: Request, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    mention = _mention(session, user, mention_id)
    ticket = mention_actions.make_ticket(session, user, mention, request.app.state.pipeline)
    return {"mention": mention_actions.mention_json(mention), "ticket_id": ticket.id}


@router.post("/mentions/{mention_id}/reply")
def reply(
    mention_id: IdPath, body: ReplyIn, request: Request, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    mention = _mention(session, user, mention_id)
    ticket, outcome = mention_actions.reply_to_mention(
        session, user, mention, request.app.state.pipeline, body.body, confirm=body.confirm
    )
    return {
        "mention": mention_actions.mention_json(mention),
        "ticket_id": ticket.id,
        "message_id": outcome.message.id if outcome.message is not None else None,
        "approval_id": outcome.draft.id if outcome.draft is not None else None,
    }


@router.post("/mentions/{mention_id}/dismiss")
def dismiss(mention_id: IdPath, session: WriteSession, user: CurrentUser) -> dict[str, Any]:
    mention = _mention(session, user, mention_id)
    mention_actions.dismiss_mention(session, user, mention)
    return {"mention": mention_actions.mention_json(mention)}
