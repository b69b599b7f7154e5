"""@mentions in internal notes: each mentioned workspace user gets an in-app notification.

``@ana`` matches a user's first name, their name without spaces, or the part of their
e-mail before the ``@``; ``@ana@example.com`` matches the full address. Case does not
matter; the author mentioning themselves is not notified.
"""

from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from socialdesk.actions.recording import audit
from socialdesk.store.db import utcnow
from socialdesk.store.models import Membership, Message, Notification, Ticket, User

# "@word" or "@local@domain.tld", not preceded by a word character (so e-mail
# addresses written in the note text do not count as mentions of their local part).
MENTION = re.compile(r"(?<![\w@])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")
EXCERPT = 200


def mentioned_keys(body: str) -> set[str]:
    return {m.rstrip(".").lower() for m in MENTION.findall(body)}


def _keys_of(user: User) -> set[str]:
    email = user.email.lower()
    keys = {email, email.split("@", 1)[0]}
    name = (user.name or "").strip().lower()
    if name:
        keys.add(name.replace(" ", ""))
        keys.add(name.split()[0])
    return keys


def notify_mentions(session: Session, ticket: Ticket, actor: User, note: Message) -> list[int]:
    """Create one ``mention`` notification per user mentioned in the note; their ids."""
    wanted = mentioned_keys(note.body)
    if not wanted:
        return []
    members = session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == ticket.workspace_id, User.is_active.is_(True))
    ).all()
    notified: list[int] = []
    for user in members:
        if user.id == actor.id or user.id in notified or not (_keys_of(user) & wanted):
            continue
        session.add(
            Notification(
                workspace_id=ticket.workspace_id,
                user_id=user.id,
                ticket_id=ticket.id,
                kind="mention",
                body=note.body[:EXCERPT],
                data={"message_id": note.id, "by": actor.name or actor.email},
            )
        )
        notified.append(user.id)
    if notified:
        audit(
            session, actor, "ticket.mentioned", "ticket", ticket.id, ticket.workspace_id,
            {"message_id": note.id, "user_ids": notified},
        )  # fmt: skip
    return notified


def mark_read(session: Session, user: User, notification_ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications (all, or the given ones) read; how many."""
    query = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_ids is not None:
        query = query.where(Notification.id.in_(notification_ids))
    return int(session.execute(query.values(read_at=utcnow())).rowcount or 0)  # type: ignore[attr-defined]
