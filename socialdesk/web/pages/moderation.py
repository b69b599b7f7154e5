"""Hide / Unhide buttons on a conversation: a customer's public comment on X, Facebook
or Instagram, or a Bluesky reply in a thread the brand started, is hidden on the network
(socialdesk/actions/moderation.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from socialdesk.actions.moderation import (
    hide_refusal,
    set_message_hidden,
    why_not_hideable,
)
from socialdesk.actions.recording import ActionError
from socialdesk.domain.personal_data import describe, exposed_in_public
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, Message, Ticket
from socialdesk.web.api.params import IdPath
from socialdesk.web.pages.common import (
    action_error,
    is_htmx,
    load_ticket,
    render,
    require_writer,
    templates,
)
from socialdesk.web.pages.conversation import thread_context
from socialdesk.web.sessions import FormUser

router = APIRouter(include_in_schema=False)


def hideable(message: Message, ticket: Ticket, account: ChannelAccount | None = None) -> bool:
    """Whether the thread shows Hide / Unhide on this message (the same rules the action
    applies, so the button never offers what the action refuses)."""
    platform = message.platform or ticket.platform
    if why_not_hideable(
        message.direction, message.visibility, platform, message.platform_message_id
    ):
        return False
    if account is not None:
        return hide_refusal(message, platform, {account.external_id}) is None
    return True


templates.env.globals["hideable"] = hideable


def exposure(message: Message) -> str:
    """ "a phone number and a street address": what a customer's visible public post gives
    away, for the thread's warning; empty when nothing (or when already hidden)."""
    if message.hidden_at is not None or message.meta.get("removed_at"):
        return ""
    return describe(exposed_in_public(message.direction, message.visibility, message.body))


templates.env.globals["exposure"] = exposure


@router.post("/tickets/{ticket_id}/messages/{message_id}/hide")
async def hide(
    request: Request,
    ticket_id: IdPath,
    message_id: IdPath,
    user: FormUser,
    hidden: Annotated[str, Form()] = "1",
) -> Response:
    """``hidden=1`` hides, ``hidden=0`` unhides; the network's refusal is shown as is."""
    require_writer(user)
    database: Database = request.app.state.db
    want = hidden not in ("0", "false", "")

    def load(session: Session) -> Ticket:
        return load_ticket(session, user, ticket_id)

    try:
        await set_message_hidden(
            database, request.app.state.moderation_connectors, user.id, load, message_id, want
        )
    except ActionError as exc:
        raise action_error(exc) from exc
    notice = "Hidden from the public." if want else "Visible to the public again."
    if not is_htmx(request):
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
    with database.session() as session:
        context: dict[str, Any] = thread_context(session, user, load(session))
    return render(request, "thread.html", user, notice=notice, **context)
