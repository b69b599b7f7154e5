"""The lead's live view: queue sizes per view and channel, the oldest waiting post per
channel, agents on shift with their load (what ``GET /api/v1/queue/live`` computes)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from socialdesk.sla import views as sla_views
from socialdesk.store.db import Database, utcnow
from socialdesk.web.pages.common import PageError, render
from socialdesk.web.pages.inbox import VIEWS, counts_for
from socialdesk.web.sessions import PageUser

router = APIRouter(include_in_schema=False)


@router.get("/queue", response_class=HTMLResponse)
def live_queue(request: Request, user: PageUser) -> Response:
    if user.role not in ("admin", "lead"):
        raise PageError(403, "Only leads and admins see the live queue.")
    database: Database = request.app.state.db
    with database.session() as session:
        live = sla_views.live_queue(session, list(user.workspace_ids), utcnow())
        counts = counts_for(session, user)
    statuses = sorted({s for sizes in live["queues"].values() for s in sizes})
    return render(
        request,
        "live_queue.html",
        user,
        nav="queue",
        live=live,
        statuses=statuses,
        views=VIEWS,
        counts=counts,
    )
