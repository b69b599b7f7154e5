"""The inbox's "Log a contact" form: a phone call, walk-in visit or other contact handled
off-line becomes a ticket of its channel (``actions.logged_contacts``, the same action
as ``POST /api/v1/tickets``)."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from socialdesk.actions import logged_contacts
from socialdesk.actions.recording import ActionError
from socialdesk.domain.enums import LoggedChannel
from socialdesk.store.db import Database
from socialdesk.store.models import User
from socialdesk.web.pages.common import PageError, action_error, require_writer
from socialdesk.web.pages.inbox_views import forget_counts
from socialdesk.web.sessions import FormUser

router = APIRouter(include_in_schema=False)


@router.post("/inbox/log-contact")
def log_contact(
    request: Request,
    user: FormUser,
    channel: Annotated[str, Form(max_length=20)],
    summary: Annotated[str, Form(max_length=5000)],
    handle_minutes: Annotated[str, Form(max_length=20)],
    name: Annotated[str, Form(max_length=200)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    solved: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    require_writer(user)
    if not user.workspace_ids:
        raise PageError(403, "You are not a member of any workspace.")
    if channel not in LoggedChannel._value2member_map_:
        raise PageError(422, "Choose phone, walk-in or other as the channel.")
    try:
        minutes = float(handle_minutes)
    except ValueError:
        minutes = math.nan
    if not math.isfinite(minutes) or minutes < 0:
        raise PageError(422, "Type the handle time in minutes, e.g. 4.5.")
    entry = logged_contacts.LoggedContact(
        channel=LoggedChannel(channel),
        summary=summary,
        handle_seconds=round(minutes * 60),
        name=name,
        phone=phone,
        email=email,
        solved=bool(solved),
    )
    database: Database = request.app.state.db
    with database.write() as session:
        actor = session.get(User, user.id)
        assert actor is not None
        try:
            ticket = logged_contacts.log_contact(session, actor, user.workspace_ids[0], entry)
        except ActionError as exc:
            raise action_error(exc) from exc
        target = f"/tickets/{ticket.id}"
    forget_counts()
    return RedirectResponse(target, status_code=303)
