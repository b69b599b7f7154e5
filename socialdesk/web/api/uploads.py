"""Images uploaded to attach to a reply (``attachment_ids`` of the reply request)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel, ConfigDict

from socialdesk.actions.uploads import store_upload
from socialdesk.web.api.params import DbId
from socialdesk.web.deps import CurrentUser, WriteSession, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(prefix="/uploads", tags=["tickets"])


class UploadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    workspace_id: int
    name: str | None
    mime_type: str
    size: int
    created_at: datetime


@router.post(
    "",
    response_model=UploadOut,
    status_code=201,
    responses={
        413: {"description": "the file is larger than the upload limit"},
        415: {"description": "not a PNG, JPEG, GIF or WebP image (by its bytes)"},
        422: {"description": "no file, or an empty one"},
    },
)
def upload(
    request: Request,
    session: WriteSession,
    user: CurrentUser,
    file: Annotated[UploadFile, File()],
    workspace_id: Annotated[DbId | None, Form()] = None,
) -> UploadOut:
    """An image (multipart field ``file``) kept in the attachment storage until a reply
    names its ``id`` in ``attachment_ids``. Typed by its bytes, never by the stated type."""
    allowed = workspace_ids(session, user)
    workspace = workspace_id if workspace_id is not None else next(iter(allowed), None)
    if workspace is None or workspace not in allowed:
        raise ApiError(403, "you are not a member of that workspace")
    limit = request.app.state.settings.reply_upload_max_bytes
    data = file.file.read(limit + 1)
    stored = store_upload(
        session, request.app.state.attachment_storage, user, workspace, data, file.filename,
        max_bytes=limit,
    )  # fmt: skip
    return UploadOut.model_validate(stored)
