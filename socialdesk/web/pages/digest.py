"""The Reports page's Digest tab: the daily digest of a day, as the e-mail sends it
(``GET /api/v1/reports/digest``)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from socialdesk.reports import charts
from socialdesk.reports.digest import build_digest
from socialdesk.reports.overview import workspace_zone
from socialdesk.store.db import Database, utcnow
from socialdesk.web.pages.common import PageError, render
from socialdesk.web.pages.reports import READERS
from socialdesk.web.sessions import PageUser

router = APIRouter(include_in_schema=False)


@router.get("/reports/digest", response_class=HTMLResponse)
def digest_page(request: Request, user: PageUser) -> Response:
    if user.role not in READERS:
        raise PageError(403, "Reports are for leads, admins and viewers.")
    if not user.workspace_ids:
        raise PageError(403, "You are not a member of any workspace.")
    database: Database = request.app.state.db
    now = utcnow()
    with database.session() as session:
        workspace_id = user.workspace_ids[0]
        _, zone = workspace_zone(session, workspace_id)
        today = now.astimezone(zone).date()
        text = request.query_params.get("date", "").strip()[:10]
        try:
            day = date.fromisoformat(text) if text else today
        except ValueError:
            raise PageError(400, f"date must be a day such as 2026-03-02, not {text!r}") from None
        if day > today:
            raise PageError(400, "That day has not come yet.")
        digest = build_digest(session, workspace_id, day, now)
    channels = sorted(set(digest.messages_by_channel) | set(digest.opened_by_channel))
    picture = charts.stacked_rows(
        channels,
        [
            [digest.messages_by_channel.get(c, 0), digest.opened_by_channel.get(c, 0)]
            for c in channels
        ],
        ["Customer messages", "New tickets"],
        title=f"Volume by channel on {day}",
    )
    return render(
        request,
        "digest.html",
        user,
        digest=digest,
        picture=picture,
        channels=channels,
        previous=(day - timedelta(days=1)).isoformat(),
        following=(day + timedelta(days=1)).isoformat() if day < today else None,
    )
