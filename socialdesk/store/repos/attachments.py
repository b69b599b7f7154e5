"""Reading an attachment's (or a reply upload's) stored copy, for the signed-in routes
that serve it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.store.models import Message, MessageAttachment, Ticket, Upload


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    key: str
    mime_type: str | None
    name: str | None


def stored_attachment(
    session: Session, attachment_id: int, workspace_ids: Collection[int]
) -> StoredAttachment | None:
    """The stored copy of an attachment in one of these workspaces; None when there is
    no such attachment there (or it is not stored), so a stranger learns nothing."""
    row = session.execute(
        select(
            MessageAttachment.stored_key, MessageAttachment.stored_mime_type, MessageAttachment.name
        )
        .join(Message, Message.id == MessageAttachment.message_id)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(
            MessageAttachment.id == attachment_id,
            Ticket.workspace_id.in_(list(workspace_ids)),
            MessageAttachment.stored_key.is_not(None),
        )
    ).first()
    if row is None or row[0] is None:
        return None
    return StoredAttachment(row[0], row[1], row[2])


def stored_upload(
    session: Session,
    upload_id: int,
    user_id: int,
    workspace_ids: Collection[int],
    *,
    reviewer: bool,
) -> StoredAttachment | None:
    """An upload's file for its uploader, or for a lead or admin of its workspace while
    a draft awaiting approval holds it (the approval queue's thumbnails); None otherwise."""
    upload = session.get(Upload, upload_id)
    if upload is None or upload.workspace_id not in set(workspace_ids):
        return None
    if upload.user_id != user_id and not (reviewer and upload.draft_id is not None):
        return None
    return StoredAttachment(upload.stored_key, upload.mime_type, upload.name)
