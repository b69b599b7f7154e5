"""In-app notifications (mentions in internal notes): the list page and marking read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from socialdesk.actions import mentions
from socialdesk.store.db import Database
from socialdesk.store.models import Notification, Ticket, User
from socialdesk.web.pages.common import render
from socialdesk.web.sessions import FormUser, PageUser

router = APIRouter(include_in_schema=False)
LIST_LIMIT = 100


@router.get("/notifications", response_class=HTMLResponse)
def notifications(request: Request, user: PageUser) -> Response:
    database: Database = request.app.state.db
    with database.session() as session:
        rows = list(
            session.execute(
                select(Notification, Ticket.subject)
                .outerjoin(Ticket, Ticket.id == Notification.ticket_id)
                .where(Notification.user_id == user.id)
                .order_by(Notification.id.desc())
                .limit(LIST_LIMIT)
            )
        )
    return render(request, "notifications.html", user, rows=rows, nav="notifications")


@router.post("/notifications/read")
def read(
    request: Request,
    user: FormUser,
    notification_id: Annotated[list[int] | None, Form()] = None,
    open_ticket: Annotated[int | None, Form()] = None,
) -> Response:
    """Mark the checked notifications (or all) read; optionally go to their ticket."""
    database: Database = request.app.state.db
    with database.write() as session:
        actor = session.get(User, user.id)
        assert actor is not None
        mentions.mark_read(session, actor, notification_id)
    target = f"/tickets/{open_ticket}" if open_ticket else "/notifications"
    return RedirectResponse(target, status_code=303)
