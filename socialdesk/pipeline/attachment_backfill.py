"""Old messages whose attachments live only in ``messages.meta``: stored before
``message_attachments`` existed, a Messenger/Instagram DM kept ``meta["attachments"]``
as ``[{"type", "url"}]``. Each is read by the same parser new deliveries go through
(``channels/meta/attachments.dm_attachments``) and written as rows, once: a message
that already has attachment rows is left alone, so a second run adds nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select

from socialdesk.channels.meta.attachments import dm_attachments
from socialdesk.store.db import Database
from socialdesk.store.models import Message, MessageAttachment


@dataclass(frozen=True, slots=True)
class BackfillStep:
    last_id: int
    messages_read: int
    messages_filled: int
    attachments_added: int


def attachments_in_meta(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The old ``meta["attachments"]`` in the shape Meta's webhook sends them."""
    found = meta.get("attachments")
    if not isinstance(found, list):
        return []
    return [
        {"type": item.get("type"), "payload": {"url": item.get("url")}}
        for item in found
        if isinstance(item, dict)
    ]


def messages_to_read(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count(Message.id))) or 0)


def backfill_step(db: Database, after_id: int, batch: int = 500) -> BackfillStep | None:
    """The next ``batch`` messages after ``after_id``; None when none are left."""
    with db.write() as session:
        rows = session.execute(
            select(Message.id, Message.meta)
            .where(Message.id > after_id)
            .order_by(Message.id)
            .limit(batch)
        ).all()
        if not rows:
            return None
        candidates = {
            message_id: parsed
            for message_id, meta in rows
            if isinstance(meta, dict)
            and (parsed := dm_attachments({"attachments": attachments_in_meta(meta)}))
        }
        if candidates:
            have = set(
                session.scalars(
                    select(MessageAttachment.message_id)
                    .where(MessageAttachment.message_id.in_(list(candidates)))
                    .distinct()
                )
            )
            candidates = {k: v for k, v in candidates.items() if k not in have}
        values = [
            {"message_id": message_id, "position": position, **a.as_row()}
            for message_id, parsed in candidates.items()
            for position, a in enumerate(parsed)
        ]
        if values:
            session.execute(insert(MessageAttachment), values)
    return BackfillStep(rows[-1][0], len(rows), len(candidates), len(values))
