"""Knowledge-base articles over the API: admins and leads write; agents read internal
articles too; viewers read published public ones (the rules live in knowledge/articles.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from socialdesk.knowledge import articles as kb
from socialdesk.knowledge.render import render_markdown
from socialdesk.store.models import Article, User
from socialdesk.web.api.params import DbId, IdPath
from socialdesk.web.api.schemas import PatchModel
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(prefix="/kb", tags=["knowledge base"])

Status = Annotated[str, Field(pattern="^(draft|published)$")]
Visibility = Annotated[str, Field(pattern="^(public|internal)$")]
Tags = Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=30)]
Summaries = Annotated[dict[str, Annotated[str, Field(max_length=1000)]], Field(max_length=20)]


class ArticleIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=100_000)
    category: str = Field(default="", max_length=80)
    tags: Tags = Field(default_factory=list)
    status: Status = "draft"
    visibility: Visibility = "public"
    summaries: Summaries = Field(default_factory=dict)
    slug: str | None = Field(default=None, min_length=1, max_length=100)
    workspace_id: DbId | None = None


class ArticlePatch(PatchModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, max_length=100_000)
    category: str | None = Field(default=None, max_length=80)
    tags: Tags | None = None
    status: Status | None = None
    visibility: Visibility | None = None
    summaries: Summaries | None = None
    slug: str | None = Field(default=None, min_length=1, max_length=100)


class ArticleOut(BaseModel):
    id: int
    workspace_id: int
    slug: str
    title: str
    body: str
    html: str
    category: str
    tags: list[str]
    status: str
    visibility: str
    summaries: dict[str, str]
    short_code: str
    version: int
    helpful_yes: int
    helpful_no: int
    created_at: datetime
    updated_at: datetime
    # With `q`: the combined score, its full-text part (BM25 scaled to 0..1) and the
    # cosine similarity of the embeddings (None while the encoder is off).
    score: float | None = None
    text_score: float | None = None
    semantic_score: float | None = None


class VersionOut(BaseModel):
    version: int
    title: str
    changed_fields: list[str]
    user_id: int | None
    created_at: datetime


_SCORES = ("score", "text_score", "semantic_score")


def _out(article: Article, hit: kb.Hit | None = None) -> dict[str, Any]:
    return {
        **{
            name: getattr(article, name)
            for name in ArticleOut.model_fields
            if name != "html" and name not in _SCORES
        },
        "html": render_markdown(article.body),
        **{name: getattr(hit, name) if hit else None for name in _SCORES},
    }


def _visible(session: Session, user: User, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if (
        article is None
        or article.workspace_id not in workspace_ids(session, user)
        or not kb.can_read(user, article)
    ):
        raise ApiError(404, f"article {article_id} not found")
    return article


@router.get("/articles", response_model=list[ArticleOut])
def list_(
    session: ReadSession,
    user: CurrentUser,
    q: Annotated[str, Query(max_length=500, description="words to search for")] = "",
    category: Annotated[str | None, Query(max_length=80)] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    """Articles the caller may read; with `q`, best match first and each with its score."""
    found = kb.list_articles(
        session, workspace_ids(session, user), user, q=q, category=category, tag=tag, limit=limit
    )
    return [_out(article, hit) for article, hit in found]


@router.get("/articles/{article_id}", response_model=ArticleOut)
def get(article_id: IdPath, session: ReadSession, user: CurrentUser) -> dict[str, Any]:
    return _out(_visible(session, user, article_id))


@router.get("/articles/{article_id}/versions", response_model=list[VersionOut])
def versions(article_id: IdPath, session: ReadSession, user: CurrentUser) -> list[Any]:
    """Who changed what, newest first."""
    return list(kb.versions(session, _visible(session, user, article_id)))


@router.post("/articles", response_model=ArticleOut, status_code=201)
def create(body: ArticleIn, session: WriteSession, user: CurrentUser) -> dict[str, Any]:
    allowed = workspace_ids(session, user)
    workspace_id = body.workspace_id if body.workspace_id is not None else next(iter(allowed), None)
    if workspace_id is None or workspace_id not in allowed:
        raise ApiError(403, f"you are not a member of workspace {body.workspace_id}")
    draft = kb.ArticleDraft(**body.model_dump(exclude={"workspace_id"}))
    return _out(kb.create_article(session, user, workspace_id, draft))


@router.patch("/articles/{article_id}", response_model=ArticleOut)
def update(
    article_id: IdPath, body: ArticlePatch, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    article = _visible(session, user, article_id)
    draft = kb.ArticleDraft(**body.model_dump(exclude_unset=True))
    return _out(kb.update_article(session, user, article, draft))


@router.delete("/articles/{article_id}", status_code=204)
def delete(article_id: IdPath, session: WriteSession, user: CurrentUser) -> Response:
    kb.delete_article(session, user, _visible(session, user, article_id))
    return Response(status_code=204)
