"""Settings → Knowledge base: admins and leads write articles, with a preview.

The preview needs no JavaScript: the form's "Preview" button posts it back and the page
shows the rendered article above the unsaved form.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from socialdesk.actions.recording import ActionError
from socialdesk.knowledge import articles as kb
from socialdesk.knowledge.help_centre import clicks
from socialdesk.knowledge.render import render_markdown
from socialdesk.store.db import Database
from socialdesk.store.models import Article, User, Workspace
from socialdesk.web.api.params import IdPath
from socialdesk.web.pages.common import PageError, action_error
from socialdesk.web.pages.settings.base import ADMIN_LEAD, actor, owned, page, require
from socialdesk.web.sessions import FormUser, PageUser

router = APIRouter(include_in_schema=False)
# Networks whose small limits want a short summary of an article.
SUMMARY_NETWORKS = ("x", "bluesky", "mastodon")


@router.get("/settings/kb", response_class=HTMLResponse)
def kb_page(request: Request, user: PageUser) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    with database.session() as s:
        articles = list(
            s.scalars(
                select(Article)
                .where(Article.workspace_id.in_(user.workspace_ids))
                .order_by(Article.category, Article.title)
            )
        )
        workspaces = select(Workspace).where(Workspace.id.in_(user.workspace_ids))
        slugs = {w.id: w.slug for w in s.scalars(workspaces)}
    notice = {"saved": "Article saved.", "deleted": "Article deleted."}.get(
        request.query_params.get("done", "")
    )
    return page(
        request, user, "settings_kb.html", "kb", articles=articles, notice=notice, slugs=slugs
    )


def _form(article: Article | None, **given: Any) -> dict[str, Any]:
    summaries = article.summaries if article else {}
    base = {
        "title": article.title if article else "",
        "slug": article.slug if article else "",
        "category": article.category if article else "",
        "tags": ", ".join(article.tags) if article else "",
        "status": article.status if article else "draft",
        "visibility": article.visibility if article else "public",
        "body": article.body if article else "",
        **{f"summary_{n}": summaries.get(n, "") for n in SUMMARY_NETWORKS},
    }
    base.update({k: v for k, v in given.items() if v is not None})
    return base


@router.get("/settings/kb/new", response_class=HTMLResponse)
def new_article(
    request: Request,
    user: PageUser,
    title: Annotated[str, Query(max_length=200)] = "",
    body: Annotated[str, Query(max_length=20_000)] = "",
    category: Annotated[str, Query(max_length=80)] = "",
) -> Response:
    """A blank article, or one pre-filled (the FAQ finder's "write an article" link)."""
    require(user, ADMIN_LEAD)
    form = _form(None, title=title or None, body=body or None, category=category or None)
    return page(request, user, "settings_kb_edit.html", "kb", article=None, form=form)


@router.get("/settings/kb/{article_id}", response_class=HTMLResponse)
def edit_article(request: Request, user: PageUser, article_id: IdPath) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    with database.session() as s:
        article = owned(s, user, Article, article_id, "article")
        history = [
            (v, s.get(User, v.user_id) if v.user_id else None) for v in kb.versions(s, article)
        ]
        return page(
            request,
            user,
            "settings_kb_edit.html",
            "kb",
            article=article,
            form=_form(article),
            history=history,
            clicks=sorted(clicks(s, article.id).items(), key=lambda item: -item[1]),
        )


@router.post("/settings/kb/save")
def save_article(
    request: Request,
    user: FormUser,
    title: Annotated[str, Form(max_length=200)],
    body: Annotated[str, Form(max_length=100_000)] = "",
    slug: Annotated[str, Form(max_length=100)] = "",
    category: Annotated[str, Form(max_length=80)] = "",
    tags: Annotated[str, Form(max_length=1000)] = "",
    status: Annotated[str, Form(max_length=16)] = "draft",
    visibility: Annotated[str, Form(max_length=16)] = "public",
    summary_x: Annotated[str, Form(max_length=1000)] = "",
    summary_bluesky: Annotated[str, Form(max_length=1000)] = "",
    summary_mastodon: Annotated[str, Form(max_length=1000)] = "",
    article_id: Annotated[str, Form(max_length=20)] = "",
    do: Annotated[str, Form(max_length=16)] = "save",
) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    summaries = {"x": summary_x, "bluesky": summary_bluesky, "mastodon": summary_mastodon}
    draft = kb.ArticleDraft(
        title=title,
        body=body,
        slug=slug or None,
        category=category,
        tags=[t for t in tags.split(",") if t.strip()],
        status=status,
        visibility=visibility,
        summaries=summaries,
    )
    with database.write() as s:
        article = None
        if article_id.strip():
            if not article_id.strip().isdigit():
                raise PageError(400, "That article id is not a number.")
            article = owned(s, user, Article, int(article_id), "article")
        if do == "preview":
            form = _form(
                article,
                title=title,
                slug=slug,
                category=category,
                tags=tags,
                status=status,
                visibility=visibility,
                body=body,
                **{f"summary_{n}": v for n, v in summaries.items()},
            )
            return page(
                request,
                user,
                "settings_kb_edit.html",
                "kb",
                article=article,
                form=form,
                preview=render_markdown(body),
            )
        try:
            if article is None:
                article = kb.create_article(s, actor(s, user), user.workspace_ids[0], draft)
            else:
                kb.update_article(s, actor(s, user), article, draft)
        except ActionError as exc:
            raise action_error(exc) from exc
        target = article.id
    return RedirectResponse(f"/settings/kb/{target}?done=saved", status_code=303)


@router.post("/settings/kb/{article_id}/delete")
def delete_article(request: Request, user: FormUser, article_id: IdPath) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    with database.write() as s:
        article = owned(s, user, Article, article_id, "article")
        try:
            kb.delete_article(s, actor(s, user), article)
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings/kb?done=deleted", status_code=303)
