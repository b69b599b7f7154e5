"""Peer answers: fans' replies that answered a customer (docs/triage.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from socialdesk.actions import peer_answers as actions
from socialdesk.web.api.params import DbId, IdPath
from socialdesk.web.api.schemas import ApprovalDraftOut, MessageOut, PeerAnswerOut, ThankFanRequest
from socialdesk.web.api.tickets import load_ticket
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(tags=["peer answers"])


@router.get("/peer-answers", response_model=list[PeerAnswerOut])
def list_peer_answers(
    session: ReadSession,
    user: CurrentUser,
    since: datetime | None = Query(default=None, description="detected at or after (ISO 8601)"),
    until: datetime | None = Query(default=None, description="detected before (ISO 8601)"),
    workspace_id: DbId | None = None,
    limit: int = Query(default=200, ge=1, le=actions.MAX_LISTED),
) -> Any:
    """Peer answers detected in [since, until), newest first, in the caller's workspaces."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ApiError(400, f"{name} needs a time zone (e.g. 2026-12-01T00:00:00Z)")
    if since is not None and until is not None and until <= since:
        raise ApiError(400, "until must be after since")
    allowed = set(workspace_ids(session, user))
    if workspace_id is not None:
        if workspace_id not in allowed:
            raise ApiError(403, f"you are not a member of workspace {workspace_id}")
        allowed = {workspace_id}
    return actions.in_period(session, allowed, since, until, limit)


@router.post(
    "/tickets/{ticket_id}/peer-answers/{answer_id}/thank",
    response_model=MessageOut,
    status_code=201,
    responses={202: {"model": ApprovalDraftOut, "description": "held for a lead's approval"}},
)
def thank_fan(
    ticket_id: IdPath,
    answer_id: IdPath,
    session: WriteSession,
    user: CurrentUser,
    background: BackgroundTasks,
    request: Request,
    body: ThankFanRequest | None = None,
) -> Any:
    """A public reply under the fan's answer, through the normal reply rules."""
    ticket = load_ticket(session, user, ticket_id)
    request_body = body or ThankFanRequest()
    outcome = actions.thank_fan(
        session, ticket, user, answer_id, request_body.body, confirm=request_body.confirm
    )
    if outcome.draft is not None:
        draft = ApprovalDraftOut.model_validate(outcome.draft)
        return JSONResponse(jsonable_encoder(draft), status_code=202)
    background.add_task(request.app.state.delivery_worker.kick)
    return outcome.message
