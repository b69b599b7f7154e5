"""The Mentions page (posts saved searches found: make one a ticket, reply, dismiss)
and Settings → Listening (the saved searches). Thin: the rules are in
``socialdesk/listening``; an ``ActionError`` is shown with its reason."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from socialdesk.actions.recording import ActionError
from socialdesk.listening import mentions as mention_actions
from socialdesk.listening import searches as search_actions
from socialdesk.listening.queries import LISTENING_NETWORKS
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, ListeningMention, ListeningSearch
from socialdesk.web.api.params import IdPath
from socialdesk.web.pages.common import PageError, action_error, render
from socialdesk.web.pages.settings.base import actor, owned, page, require
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)
MANAGERS = ("admin", "lead", "marketing")
NETWORK_LABELS = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value in (None, ""):
        return None
    if value not in allowed:
        raise PageError(400, f"Choose one of {', '.join(allowed)}.")
    return value


@router.get("/mentions", response_class=HTMLResponse)
def mentions_page(
    request: Request,
    user: PageUser,
    q: Annotated[str, Query(max_length=mention_actions.MAX_Q)] = "",
    network: str = "",
    sentiment: str = "",
    status: str = "new",
) -> Response:
    filters = mention_actions.MentionFilter(
        workspace_ids=user.workspace_ids,
        q=q.strip() or None,
        network=_choice(network, tuple(NETWORK_LABELS)),
        sentiment=_choice(sentiment, mention_actions.SENTIMENTS),
        status=_choice(status, (*mention_actions.STATUSES, "all")) if status != "all" else None,
    )
    database: Database = request.app.state.db
    with database.session() as s:
        try:
            found = mention_actions.list_mentions(s, filters, limit=100)
        except ValueError as exc:
            raise PageError(400, str(exc)) from exc
        names = dict(
            s.execute(
                select(ListeningSearch.id, ListeningSearch.name).where(
                    ListeningSearch.workspace_id.in_(user.workspace_ids)
                )
            ).all()
        )
        return render(
            request, "mentions.html", user, nav="mentions", mentions=found, search_names=names,
            networks=NETWORK_LABELS, q=q, network=network, sentiment=sentiment,
            status=status, done=request.query_params.get("done"),
        )  # fmt: skip


def _mention_write(
    request: Request, user: WebUser, mention_id: int, what: str, **extra: Any
) -> Response:
    database: Database = request.app.state.db
    try:
        with database.write() as s:
            mention = s.get(ListeningMention, mention_id)
            if mention is None or mention.workspace_id not in user.workspace_ids:
                raise PageError(404, f"Mention {mention_id} was not found.")
            agent = actor(s, user)
            pipeline = request.app.state.pipeline
            if what == "dismiss":
                mention_actions.dismiss_mention(s, agent, mention)
                return RedirectResponse("/mentions?done=dismissed", status_code=303)
            if what == "reply":
                ticket, _ = mention_actions.reply_to_mention(
                    s, agent, mention, pipeline, extra["body"]
                )
            else:
                ticket = mention_actions.make_ticket(s, agent, mention, pipeline)
            ticket_id = ticket.id
    except ActionError as exc:
        raise action_error(exc) from exc
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)


@router.post("/mentions/{mention_id}/ticket")
def make_ticket(request: Request, user: FormUser, mention_id: IdPath) -> Response:
    return _mention_write(request, user, mention_id, "ticket")


@router.post("/mentions/{mention_id}/reply")
def reply(
    request: Request,
    user: FormUser,
    mention_id: IdPath,
    body: Annotated[str, Form(max_length=10_000)],
) -> Response:
    return _mention_write(request, user, mention_id, "reply", body=body)


@router.post("/mentions/{mention_id}/dismiss")
def dismiss(request: Request, user: FormUser, mention_id: IdPath) -> Response:
    return _mention_write(request, user, mention_id, "dismiss")


# -- Settings → Listening -------------------------------------------------------------


def _settings(request: Request, user: WebUser, status_code: int = 200, **context: Any) -> Response:
    database: Database = request.app.state.db
    with database.session() as s:
        searches = list(
            s.scalars(
                select(ListeningSearch)
                .where(ListeningSearch.workspace_id.in_(user.workspace_ids))
                .order_by(ListeningSearch.name)
            )
        )
        accounts = list(
            s.scalars(
                select(ChannelAccount)
                .where(
                    ChannelAccount.workspace_id.in_(user.workspace_ids),
                    ChannelAccount.platform.in_([str(p) for p in LISTENING_NETWORKS]),
                )
                .order_by(ChannelAccount.platform, ChannelAccount.handle)
            )
        )
        return page(
            request, user, "settings_listening.html", "listening", status_code=status_code,
            searches=searches, accounts=accounts, networks=NETWORK_LABELS,
            notice={"saved": "Saved search saved.", "deleted": "Saved search deleted."}.get(
                request.query_params.get("done", "")
            ),
            **context,
        )  # fmt: skip


@router.get("/settings/listening", response_class=HTMLResponse)
def settings_page(request: Request, user: PageUser) -> Response:
    require(user, MANAGERS)
    return _settings(request, user)


def _form_spec(
    name: str, keywords: str, hashtags: str, brands: str, misspellings: str,
    exclusions: str, account_ids: list[str],
) -> dict[str, Any]:  # fmt: skip
    return {
        "name": name, "keywords": keywords, "hashtags": hashtags, "brands": brands,
        "misspellings": misspellings, "exclusions": exclusions, "account_ids": account_ids,
    }  # fmt: skip


Text = Annotated[str, Form(max_length=2000)]


@router.post("/settings/listening")
def save_search(
    request: Request,
    user: FormUser,
    name: Annotated[str, Form(max_length=200)],
    keywords: Text = "",
    hashtags: Text = "",
    brands: Text = "",
    misspellings: Text = "",
    exclusions: Text = "",
    account_ids: Annotated[list[str] | None, Form()] = None,
    search_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    require(user, MANAGERS)
    spec = _form_spec(name, keywords, hashtags, brands, misspellings, exclusions, account_ids or [])
    database: Database = request.app.state.db
    try:
        with database.write() as s:
            if search_id:
                if not search_id.isdigit():
                    raise PageError(400, "search_id must be an id")
                search = owned(s, user, ListeningSearch, int(search_id), "saved search")
                search_actions.update_search(s, actor(s, user), search, spec)
            else:
                search_actions.create_search(s, actor(s, user), user.workspace_ids[0], spec)
    except ActionError as exc:
        return _settings(request, user, status_code=exc.status_code, error=exc.message, form=spec)
    return RedirectResponse("/settings/listening?done=saved", status_code=303)


@router.post("/settings/listening/{search_id}/delete")
def delete_search(request: Request, user: FormUser, search_id: IdPath) -> Response:
    require(user, MANAGERS)
    database: Database = request.app.state.db
    with database.write() as s:
        search = owned(s, user, ListeningSearch, search_id, "saved search")
        try:
            search_actions.delete_search(s, actor(s, user), search)
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings/listening?done=deleted", status_code=303)
