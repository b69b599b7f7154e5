"""Who else has a ticket open, and who is typing on it (collision warnings).

Heartbeats are rows in ``ticket_presence``, so every server process sees every viewer;
a change (someone arrives, starts or stops typing, leaves) is announced as a live event
in the same transaction, which the live relay carries to the other processes' pages.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import TicketPresence

VIEW_TTL = timedelta(seconds=15)
TYPING_TTL = timedelta(seconds=8)


def changed(before: TicketPresence | None, now: datetime, *, typing: bool) -> bool:
    """Whether a heartbeat changes what the others should see."""
    if before is None or now - before.seen_at > VIEW_TTL:
        return True
    was_typing = before.typing_until is not None and before.typing_until > now
    return was_typing != typing


def touch(
    database: Database, workspace_id: int, ticket_id: int, user_id: int, label: str, *, typing: bool
) -> bool:
    """Record a heartbeat; True (and announced) when what others see changed."""
    now = utcnow()
    with database.write() as session:
        row = session.get(TicketPresence, (ticket_id, user_id))
        news = changed(row, now, typing=typing)
        if row is None:
            row = TicketPresence(ticket_id=ticket_id, user_id=user_id, workspace_id=workspace_id)
            session.add(row)
        row.label = label
        row.seen_at = now
        row.typing_until = now + TYPING_TTL if typing else None
        if news:
            _announce(session, workspace_id, ticket_id, user_id)
    return news


def leave(database: Database, workspace_id: int, ticket_id: int, user_id: int) -> None:
    with database.write() as session:
        gone = session.execute(
            delete(TicketPresence).where(
                TicketPresence.ticket_id == ticket_id, TicketPresence.user_id == user_id
            )
        )
        if getattr(gone, "rowcount", 0):
            _announce(session, workspace_id, ticket_id, user_id)


def others(session: Session, ticket_id: int, user_id: int) -> list[tuple[str, bool]]:
    """(label, typing) for everyone else currently on the ticket."""
    now = utcnow()
    rows = session.execute(
        select(TicketPresence.label, TicketPresence.typing_until).where(
            TicketPresence.ticket_id == ticket_id,
            TicketPresence.user_id != user_id,
            TicketPresence.seen_at > now - VIEW_TTL,
        )
    )
    return sorted((label, until is not None and until > now) for label, until in rows)


def _announce(session: Session, workspace_id: int, ticket_id: int, user_id: int) -> None:
    queue_live_event(
        session,
        LiveEvent("presence.changed", workspace_id, {"ticket_id": ticket_id, "user_id": user_id}),
    )
