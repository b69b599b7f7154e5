"""An attachment's stored file for the inbox's thumbnails and links, and a reply upload's
for the approval queue (session sign-in)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from socialdesk.store.db import Database
from socialdesk.store.repos.attachments import stored_attachment, stored_upload
from socialdesk.web.api.params import IdPath
from socialdesk.web.attachment_files import FileUnavailable, file_response
from socialdesk.web.pages.common import PageError
from socialdesk.web.sessions import PageUser

router = APIRouter(include_in_schema=False)


@router.get("/attachments/{attachment_id}/content")
def content(attachment_id: IdPath, request: Request, user: PageUser) -> Response:
    database: Database = request.app.state.db
    with database.session() as session:
        stored = stored_attachment(session, attachment_id, user.workspace_ids)
    if stored is None:
        raise PageError(404, "This attachment has no stored file you can see.")
    try:
        return file_response(request.app.state.attachment_storage, stored)
    except FileUnavailable as exc:
        raise PageError(exc.status, exc.reason) from None


@router.get("/uploads/{upload_id}/content")
def upload_content(upload_id: IdPath, request: Request, user: PageUser) -> Response:
    """A reply upload's image: its uploader's, or a lead's or admin's while a draft
    awaiting approval holds it (the approval queue's thumbnails)."""
    database: Database = request.app.state.db
    with database.session() as session:
        stored = stored_upload(
            session, upload_id, user.id, user.workspace_ids,
            reviewer=user.role in ("admin", "lead"),
        )  # fmt: skip
    if stored is None:
        raise PageError(404, "This upload has no file you can see.")
    try:
        return file_response(request.app.state.attachment_storage, stored)
    except FileUnavailable as exc:
        raise PageError(exc.status, exc.reason) from None
