"""Knowledge-base writes and reads with their role rules.

Admins and leads write; agents read internal articles too; everyone else (viewers,
marketing) reads published public ones. Each write records its audit entry and a live
event (`kb_article.changed`) in the writer's transaction, and a version row saying who
changed which fields.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, audit, require_role
from socialdesk.domain.enums import Platform, Role
from socialdesk.domain.length_rules import check_length
from socialdesk.knowledge import semantic
from socialdesk.knowledge.ranking import HybridWeights, Weights, hybrid, rank
from socialdesk.knowledge.render import plain_text
from socialdesk.knowledge.text import words
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.db import utcnow
from socialdesk.store.models import Article, ArticleVersion, User

WRITER_ROLES = frozenset({Role.ADMIN, Role.LEAD})
INTERNAL_READERS = frozenset({Role.ADMIN, Role.LEAD, Role.AGENT})
STATUSES = ("draft", "published")
VISIBILITIES = ("public", "internal")
# Fields whose change makes a new version.
TRACKED = ("title", "body", "category", "tags", "status", "visibility", "summaries", "slug")
# Fields the embedding is made of (knowledge/semantic.article_text).
EMBEDDED = frozenset({"title", "body", "category", "tags"})
_SLUG = re.compile(r"[^a-z0-9]+")
_CODE_ALPHABET = string.ascii_letters + string.digits
_TEXT_ONLY = Weights(text=1.0, neighbours=0.0, popularity=0.0)


@dataclass(frozen=True)
class ArticleDraft:
    """What a writer sends; `None` leaves a field as it is (on update)."""

    title: str | None = None
    body: str | None = None
    category: str | None = None
    tags: Sequence[str] | None = None
    status: str | None = None
    visibility: str | None = None
    summaries: Mapping[str, str] | None = None
    slug: str | None = None


def slugify(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:100] or "article"


def can_write(user: User) -> bool:
    return user.role in WRITER_ROLES


def readable(user: User | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(statuses, visibilities) a reader sees; `None` is the public help centre."""
    if user is not None and user.role in WRITER_ROLES:
        return STATUSES, VISIBILITIES
    if user is not None and user.role in INTERNAL_READERS:
        return ("published",), VISIBILITIES
    return ("published",), ("public",)


def can_read(user: User | None, article: Article) -> bool:
    statuses, visibilities = readable(user)
    return article.status in statuses and article.visibility in visibilities


def _clean(draft: ArticleDraft) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if draft.title is not None:
        if not draft.title.strip():
            raise ActionError("an article needs a title", 422)
        values["title"] = draft.title.strip()[:200]
    if draft.body is not None:
        values["body"] = draft.body.strip()
    if draft.category is not None:
        values["category"] = draft.category.strip()[:80]
    if draft.tags is not None:
        tags = [t.strip().lower() for t in draft.tags if t.strip()]
        if any(len(t) > 40 for t in tags):
            raise ActionError("a tag is at most 40 characters", 422)
        values["tags"] = sorted(set(tags))
    if draft.status is not None:
        if draft.status not in STATUSES:
            raise ActionError(f"status is one of {', '.join(STATUSES)}", 422)
        values["status"] = draft.status
    if draft.visibility is not None:
        if draft.visibility not in VISIBILITIES:
            raise ActionError(f"visibility is one of {', '.join(VISIBILITIES)}", 422)
        values["visibility"] = draft.visibility
    if draft.summaries is not None:
        values["summaries"] = _summaries(draft.summaries)
    if draft.slug is not None:
        if not draft.slug.strip():
            raise ActionError("a slug cannot be empty", 422)
        values["slug"] = slugify(draft.slug)
    return values


def _summaries(summaries: Mapping[str, str]) -> dict[str, str]:
    """Short texts per network, each checked against that network's public length rule."""
    out = {}
    for network, text in summaries.items():
        try:
            platform = Platform(network)
        except ValueError:
            raise ActionError(f"no network called {network!r}", 422) from None
        text = text.strip()
        if not text:
            continue
        check = check_length(text, platform)
        if not check.fits:
            raise ActionError(
                f"the {network} summary is {check.length} {check.unit}, the limit is {check.limit}",
                422,
            )
        out[platform.value] = text
    return out


def _unique_slug(session: Session, workspace_id: int, slug: str, article_id: int | None) -> str:
    taken = set(
        session.scalars(
            select(Article.slug).where(
                Article.workspace_id == workspace_id,
                Article.slug.like(f"{slug}%"),
                Article.id != (article_id or 0),
            )
        )
    )
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}-{n}", n + 1
    return candidate


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(7))
        if session.scalar(select(Article.id).where(Article.short_code == code)) is None:
            return code


def _record(
    session: Session, actor: User, article: Article, action: str, changed: list[str]
) -> None:
    session.add(
        ArticleVersion(
            article_id=article.id,
            version=article.version,
            title=article.title,
            body=article.body,
            changed_fields=changed,
            user_id=actor.id,
            created_at=utcnow(),
        )
    )
    audit(
        session,
        actor,
        action,
        "kb_article",
        article.id,
        article.workspace_id,
        {"title": article.title, "version": article.version, "changed": changed},
    )
    queue_live_event(
        session,
        LiveEvent("kb_article.changed", article.workspace_id, {"article_id": article.id}),
    )


def create_article(
    session: Session, actor: User, workspace_id: int, draft: ArticleDraft
) -> Article:
    require_role(actor, WRITER_ROLES, "only admins and leads write articles")
    values = _clean(draft)
    if "title" not in values:
        raise ActionError("an article needs a title", 422)
    now = utcnow()
    values.setdefault("slug", slugify(values["title"]))
    values["slug"] = _unique_slug(session, workspace_id, values["slug"], None)
    article = Article(
        workspace_id=workspace_id,
        body="",
        category="",
        tags=[],
        status="draft",
        visibility="public",
        summaries={},
        short_code=_new_code(session),
        version=1,
        helpful_yes=0,
        helpful_no=0,
        created_at=now,
        updated_at=now,
    )
    for field, value in values.items():
        setattr(article, field, value)
    semantic.refresh([article])
    session.add(article)
    session.flush()
    _record(session, actor, article, "kb_article.created", sorted(values))
    return article


def update_article(session: Session, actor: User, article: Article, draft: ArticleDraft) -> Article:
    require_role(actor, WRITER_ROLES, "only admins and leads write articles")
    values = _clean(draft)
    if "slug" in values:
        values["slug"] = _unique_slug(session, article.workspace_id, values["slug"], article.id)
    changed = [f for f in TRACKED if f in values and getattr(article, f) != values[f]]
    if not changed:
        return article
    for field in changed:
        setattr(article, field, values[field])
    article.version += 1
    article.updated_at = utcnow()
    if EMBEDDED.intersection(changed):
        semantic.refresh([article])
    session.flush()
    _record(session, actor, article, "kb_article.updated", changed)
    return article


def delete_article(session: Session, actor: User, article: Article) -> None:
    require_role(actor, WRITER_ROLES, "only admins and leads write articles")
    audit(
        session,
        actor,
        "kb_article.deleted",
        "kb_article",
        article.id,
        article.workspace_id,
        {"title": article.title},
    )
    queue_live_event(
        session,
        LiveEvent("kb_article.changed", article.workspace_id, {"article_id": article.id}),
    )
    session.delete(article)


def versions(session: Session, article: Article) -> list[ArticleVersion]:
    return list(
        session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article.id)
            .order_by(ArticleVersion.version.desc())
        )
    )


@dataclass(frozen=True)
class Hit:
    """A search result: the combined score and its two parts (knowledge/ranking.hybrid)."""

    article: Article
    score: float
    text_score: float
    semantic_score: float | None


def list_articles(
    session: Session,
    workspace_ids: Sequence[int],
    reader: User | None,
    *,
    q: str = "",
    category: str | None = None,
    tag: str | None = None,
    limit: int = 50,
) -> list[tuple[Article, Hit | None]]:
    """Articles a reader may see, newest first, or best first with a search `q`.

    A search ranks title, category, tags and body with BM25 (English stems) and, when
    the encoder is on, by embedding similarity too (`search`).
    """
    statuses, visibilities = readable(reader)
    query = select(Article).where(
        Article.workspace_id.in_(list(workspace_ids)),
        Article.status.in_(statuses),
        Article.visibility.in_(visibilities),
    )
    if category:
        query = query.where(func.lower(Article.category) == category.lower())
    found = list(session.scalars(query.order_by(Article.updated_at.desc(), Article.id.desc())))
    if tag:
        found = [a for a in found if tag.lower() in (a.tags or [])]
    if not q.strip():
        return [(a, None) for a in found[:limit]]
    return [(hit.article, hit) for hit in search(found, q)[:limit]]


def article_words(article: Article) -> list[str]:
    """An article's words for ranking; the title counts twice, as it names the question."""
    text = " ".join([article.title, article.title, article.category, " ".join(article.tags or [])])
    return words(text + " " + plain_text(article.body))


def search(
    articles: Sequence[Article],
    q: str,
    *,
    vector: np.ndarray | None = None,
    weights: HybridWeights = HybridWeights(),
) -> list[Hit]:
    """Articles that answer `q`, best first.

    Full text: BM25 over each article's words, counting only articles sharing a stem
    with the query. With the encoder on and articles embedded, the query is embedded
    too (or `vector` is used: a message's stored embedding) and the cosine joins the
    score, which also finds articles in other words ("my luggage never arrived" → "Lost
    baggage claims"). With the encoder off it is full text alone.
    """
    if not articles or not q.strip():
        return []
    query = words(q)
    by_key = {str(a.id): a for a in articles}
    own = {str(a.id): article_words(a) for a in articles}
    wanted = set(query)
    text: dict[str, float] = {}
    if query:
        text = {r.key: r.score for r in rank(query, list(by_key), own, [], _TEXT_ONLY)}
    matched = {key for key, found in own.items() if wanted.intersection(found)}
    cosines: dict[str, float] | None = None
    if semantic.enabled() and any(a.embedding for a in articles):
        if vector is None:
            vector = semantic.query_vector(q)
        found = semantic.cosines(articles, vector)
        cosines = {str(key): value for key, value in found.items()} if found else None
    if not query and cosines is None:
        return []
    return [
        Hit(by_key[r.key], r.score, r.text_score, r.semantic_score)
        for r in hybrid(list(by_key), text, matched, cosines, weights)
    ]
