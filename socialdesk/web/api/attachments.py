"""An attachment's stored file, for signed-in API clients of its workspace."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from socialdesk.store.repos.attachments import stored_attachment
from socialdesk.web.api.params import IdPath
from socialdesk.web.attachment_files import FileUnavailable, file_response
from socialdesk.web.deps import CurrentUser, ReadSession, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(prefix="/attachments", tags=["tickets"])


@router.get(
    "/{attachment_id}/content",
    response_class=Response,
    responses={
        200: {"description": "the file: images inline, anything else as a download"},
        404: {"description": "no such attachment in your workspaces, or none stored yet"},
        503: {"description": "the attachment storage did not answer"},
    },
)
def content(
    attachment_id: IdPath, request: Request, session: ReadSession, user: CurrentUser
) -> Response:
    """The stored copy of an inbound attachment (``stored: true`` on the message's
    attachment). Never public: a token of a user of the ticket's workspace is needed."""
    stored = stored_attachment(session, attachment_id, workspace_ids(session, user))
    if stored is None:
        raise ApiError(404, f"attachment {attachment_id} has no stored file you can read")
    try:
        return file_response(request.app.state.attachment_storage, stored)
    except FileUnavailable as exc:
        raise ApiError(exc.status, exc.reason) from None
