"""The public help centre (`/help/<workspace>`) and its short links (`/h/<code>`).

Plain HTML for anyone, signed in or not: no JavaScript, one small stylesheet, cards for
the networks (OpenGraph and Twitter meta tags) so a shared link renders as a card on X,
Facebook, Mastodon and Bluesky.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from socialdesk.knowledge import help_centre as hc
from socialdesk.knowledge.articles import search
from socialdesk.knowledge.render import plain_text, render_markdown
from socialdesk.store.db import Database
from socialdesk.store.models import Workspace
from socialdesk.web.pages.common import PageError, templates

router = APIRouter(include_in_schema=False)


def _description(text: str, limit: int = 200) -> str:
    text = plain_text(text)
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _absolute(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


@router.get("/help/{workspace}", response_class=HTMLResponse)
def help_home(
    request: Request, workspace: str, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    database: Database = request.app.state.db
    with database.session() as s:
        found = hc.workspace_by_slug(s, workspace)
        if found is None:
            raise PageError(404, "There is no help centre here.")
        articles = hc.public_articles(s, found.id)
        results = [hit.article for hit in search(articles, q)] if q.strip() else None
        return templates.TemplateResponse(
            request,
            "help_home.html",
            {
                "workspace": found,
                "groups": hc.by_category(articles),
                "q": q,
                "results": results,
                "promises": hc.promises(s, found.id),
                "canonical": _absolute(request, f"/help/{found.slug}"),
                "description": f"Answers from the {found.name} support team.",
            },
        )


@router.get("/help/{workspace}/{slug}", response_class=HTMLResponse)
def help_article(request: Request, workspace: str, slug: str) -> Response:
    database: Database = request.app.state.db
    with database.session() as s:
        found = hc.workspace_by_slug(s, workspace)
        article = hc.public_article(s, found.id, slug) if found else None
        if found is None or article is None:
            raise PageError(404, "That article is not (or no longer) in this help centre.")
        summary = article.summaries.get("x") or _description(article.body)
        return templates.TemplateResponse(
            request,
            "help_article.html",
            {
                "workspace": found,
                "article": article,
                "html": render_markdown(article.body),
                "promises": hc.promises(s, found.id),
                "thanks": request.query_params.get("thanks"),
                "canonical": _absolute(request, f"/help/{found.slug}/{article.slug}"),
                "description": summary,
                "short_link": _absolute(request, f"/h/{article.short_code}"),
            },
        )


@router.post("/help/{workspace}/{slug}/feedback")
def help_feedback(
    request: Request,
    workspace: str,
    slug: str,
    helpful: Annotated[str, Form(max_length=3)],
) -> Response:
    if helpful not in ("yes", "no"):
        raise PageError(400, "Answer yes or no.")
    database: Database = request.app.state.db
    with database.write() as s:
        found = hc.workspace_by_slug(s, workspace)
        article = hc.public_article(s, found.id, slug) if found else None
        if found is None or article is None:
            raise PageError(404, "That article is not (or no longer) in this help centre.")
        hc.record_feedback(s, article, helpful == "yes")
    return RedirectResponse(f"/help/{workspace}/{slug}?thanks={helpful}", status_code=303)


@router.get("/h/{code}")
def short_link(
    request: Request, code: str, c: Annotated[str | None, Query(max_length=32)] = None
) -> Response:
    """Redirect to the article, counting the visit under the channel it was shared on."""
    database: Database = request.app.state.db
    with database.write() as s:
        article = hc.article_by_code(s, code[:16])
        if article is None:
            raise PageError(404, "That short link leads nowhere (any more).")
        workspace = s.get(Workspace, article.workspace_id)
        assert workspace is not None
        hc.record_click(s, article, hc.click_channel(c))
        target = f"/help/{workspace.slug}/{article.slug}"
    return RedirectResponse(target, status_code=302)
