"""Images uploaded to attach to a reply (``attachment_ids`` of the reply request)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from socialdesk.actions.inbox import REVIEWER_ROLES
from socialdesk.actions.uploads import MAX_ALT_TEXT, store_upload
from socialdesk.store.repos.attachments import stored_upload
from socialdesk.web.api.params import DbId, IdPath
from socialdesk.web.attachment_files import FileUnavailable, file_response
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(prefix="/uploads", tags=["tickets"])


class UploadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    workspace_id: int
    name: str | None
    mime_type: str
    size: int
    alt_text: str | None = None
    created_at: datetime


@router.post(
    "",
    response_model=UploadOut,
    status_code=201,
    responses={
        413: {"description": "the file is larger than the upload limit"},
        415: {"description": "not a PNG, JPEG, GIF or WebP image (by its bytes)"},
        422: {"description": "no file, an empty one, or an alt text over 2,000 characters"},
    },
)
def upload(
    request: Request,
    session: WriteSession,
    user: CurrentUser,
    file: Annotated[UploadFile, File()],
    workspace_id: Annotated[DbId | None, Form()] = None,
    # Read past the action's limit so a long text gets its reason, not a bare 422.
    alt_text: Annotated[str | None, Form(max_length=MAX_ALT_TEXT * 4)] = None,
) -> UploadOut:
    """An image (multipart field ``file``) kept in the attachment storage until a reply
    names its ``id`` in ``attachment_ids``. Typed by its bytes, never by the stated type.
    ``alt_text``: its description, sent where the network takes one (each network's
    limit is checked on the reply)."""
    allowed = workspace_ids(session, user)
    workspace = workspace_id if workspace_id is not None else next(iter(allowed), None)
    if workspace is None or workspace not in allowed:
        raise ApiError(403, "you are not a member of that workspace")
    limit = request.app.state.settings.reply_upload_max_bytes
    data = file.file.read(limit + 1)
    stored = store_upload(
        session, request.app.state.attachment_storage, user, workspace, data, file.filename,
        max_bytes=limit, alt_text=alt_text,
    )  # fmt: skip
    return UploadOut.model_validate(stored)


@router.get(
    "/{upload_id}/content",
    response_class=Response,
    responses={
        200: {"description": "the image"},
        404: {"description": "not your upload, nor one a draft you review holds"},
    },
)
def content(
    upload_id: IdPath, request: Request, session: ReadSession, user: CurrentUser
) -> Response:
    """An upload's image: for its uploader, and for leads and admins while a reply
    awaiting their approval holds it (``attachments[].content_url`` of ``GET
    /approvals``)."""
    stored = stored_upload(
        session, upload_id, user.id, workspace_ids(session, user),
        reviewer=user.role in REVIEWER_ROLES,
    )  # fmt: skip
    if stored is None:
        raise ApiError(404, f"upload {upload_id} has no file you can read")
    try:
        return file_response(request.app.state.attachment_storage, stored)
    except FileUnavailable as exc:
        raise ApiError(exc.status, exc.reason) from None
