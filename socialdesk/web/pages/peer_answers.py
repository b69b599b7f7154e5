"""The ticket page's peer answers: "answered by @fan", thanking the fan (docs/triage.md).

Solving is the ticket form's own status change; thanking goes through the same action
as ``POST /api/v1/tickets/{id}/peer-answers/{answer_id}/thank``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from socialdesk.actions import peer_answers as actions
from socialdesk.actions.recording import ActionError
from socialdesk.store.db import Database
from socialdesk.store.models import User
from socialdesk.web.api.params import IdPath
from socialdesk.web.pages.common import action_error, is_htmx, load_ticket, render, require_writer
from socialdesk.web.pages.conversation import thread_context
from socialdesk.web.sessions import FormUser

router = APIRouter()


@router.post("/tickets/{ticket_id}/peer-answers/{answer_id}/thank")
def thank(
    request: Request,
    ticket_id: IdPath,
    answer_id: IdPath,
    user: FormUser,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """A public reply under the fan's answer, thanking them by handle."""
    require_writer(user)
    database: Database = request.app.state.db
    try:
        with database.write() as session:
            ticket = load_ticket(session, user, ticket_id)
            actor = session.get(User, user.id)
            assert actor is not None
            outcome = actions.thank_fan(session, ticket, actor, answer_id, confirm=bool(confirm))
    except ActionError as exc:
        raise action_error(exc) from exc
    notice = "Your thanks went to a lead for approval." if outcome.draft else "Thanks on its way."
    if not is_htmx(request):
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
    with database.session() as session:
        context: dict[str, Any] = thread_context(
            session, user, load_ticket(session, user, ticket_id)
        )
    return render(request, "thread.html", user, notice=notice, **context)
