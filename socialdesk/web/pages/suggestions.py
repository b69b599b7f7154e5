"""The composer's suggestions box: articles and past answers for the ticket's latest
customer message, each insertable as text (or, for a public article, as its short link)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from socialdesk.knowledge.suggestions import suggest
from socialdesk.store.db import Database
from socialdesk.store.models import User
from socialdesk.web.api.params import IdPath
from socialdesk.web.pages.common import PageError, load_ticket, render
from socialdesk.web.sessions import PageUser

router = APIRouter(include_in_schema=False)


@router.get("/tickets/{ticket_id}/suggestions", response_class=HTMLResponse)
def suggestions_box(request: Request, ticket_id: IdPath, user: PageUser) -> Response:
    database: Database = request.app.state.db
    with database.session() as s:
        ticket = load_ticket(s, user, ticket_id)
        agent = s.get(User, user.id)
        if agent is None:
            raise PageError(403, "Your account no longer exists.")
        found = suggest(s, ticket, agent, base_url=str(request.base_url))
    return render(request, "suggestions.html", user, found=found)
