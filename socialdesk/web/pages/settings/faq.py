"""Settings → FAQ finder (admins and leads): the customers' most frequent questions of a
period, per account and topic, with what covers them and one-click drafts."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from socialdesk.knowledge.faq_report import draft_from
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, Ticket, Workspace
from socialdesk.triage.topics import topics_of
from socialdesk.web.api.faq import faq_report
from socialdesk.web.errors import ApiError
from socialdesk.web.pages.common import PageError
from socialdesk.web.pages.settings.base import ADMIN_LEAD, actor, page, require
from socialdesk.web.sessions import PageUser

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Query(max_length=64)]


@router.get("/settings/faq", response_class=HTMLResponse)
def faq_page(
    request: Request,
    user: PageUser,
    since: Text = "",
    until: Text = "",
    account_id: Text = "",
    topic: Annotated[str, Query(max_length=80)] = "",
) -> Response:
    require(user, ADMIN_LEAD)
    try:
        account = int(account_id) if account_id.strip() else None
    except ValueError:
        raise PageError(422, "Pick an account from the list.") from None
    database: Database = request.app.state.db
    with database.session() as s:
        try:
            report = faq_report(
                s, actor(s, user), since=since or None, until=until or None,
                account_id=account, limit=20, topic=topic or None,
            )  # fmt: skip
        except ApiError as exc:
            raise PageError(exc.status_code, exc.reason) from None
        clusters = []
        for cluster in report.clusters:
            draft = draft_from(s, cluster)
            prefill = {"title": draft.title, "body": draft.body}
            clusters.append(
                {
                    "cluster": cluster,
                    "draft": draft,
                    "article_link": "/settings/kb/new?" + urlencode(prefill),
                    "canned_link": "/settings/canned?" + urlencode(prefill) + "#add-canned",
                }
            )
        accounts = [
            (a.id, f"{a.platform} · {a.display_name or a.handle or a.id}")
            for a in s.scalars(
                select(ChannelAccount)
                .where(ChannelAccount.workspace_id.in_(user.workspace_ids))
                .order_by(ChannelAccount.platform, ChannelAccount.id)
            )
        ]
        used = s.scalars(
            select(Ticket.topic)
            .where(Ticket.workspace_id.in_(user.workspace_ids), Ticket.topic.is_not(None))
            .distinct()
        )
        workspace = s.get(Workspace, user.workspace_ids[0]) if user.workspace_ids else None
        listed = topics_of(workspace.settings if workspace else None)
        topics = sorted({*listed, *(t for t in used if t)})
    return page(
        request, user, "settings_faq.html", "faq", report=report, clusters=clusters,
        accounts=accounts, topics=topics,
        query={"since": since, "until": until, "account_id": account_id, "topic": topic},
    )  # fmt: skip
