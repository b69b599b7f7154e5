"""Hide or unhide a customer's public comment on the network (X, Facebook, Instagram)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from socialdesk.actions.moderation import set_message_hidden
from socialdesk.store.models import Ticket
from socialdesk.web.api.params import IdPath
from socialdesk.web.api.schemas import MessageOut
from socialdesk.web.api.tickets import load_ticket
from socialdesk.web.deps import CurrentUser

router = APIRouter(prefix="/tickets", tags=["tickets"])


class HideRequest(BaseModel):
    hidden: bool = True


@router.post(
    "/{ticket_id}/messages/{message_id}/hide",
    response_model=MessageOut,
    responses={
        403: {"description": "the role can read but not change tickets"},
        404: {"description": "no such ticket or message"},
        422: {"description": "the message cannot be hidden (outbound, private, network)"},
        502: {"description": "the network refused; the reason is the network's"},
    },
)
async def hide_message(
    ticket_id: IdPath, message_id: IdPath, body: HideRequest, request: Request, user: CurrentUser
) -> Any:
    """Hide (``{"hidden": true}``) or unhide a customer's public comment on its network.
    The network is asked first; only its yes is recorded (ticket event + audit entry).
    Hiding a hidden comment again is a no-op success."""

    def load(session: Session) -> Ticket:
        return load_ticket(session, user, ticket_id)

    return await set_message_hidden(
        request.app.state.db,
        request.app.state.moderation_connectors,
        user.id,
        load,
        message_id,
        body.hidden,
    )
