"""Reading an attachment's stored copy, for the signed-in routes that serve it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.store.models import Message, MessageAttachment, Ticket


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
