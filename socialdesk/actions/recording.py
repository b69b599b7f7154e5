from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.domain.enums import TicketEventKind
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.db import utcnow
from socialdesk.store.models import AuditEntry, Ticket, TicketEvent, User


class ActionError(Exception):
    """A write that cannot be done as asked; the message is shown to the user."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def audit(
    session: Session,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int | None,
    workspace_id: int | None,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            workspace_id=workspace_id,
            actor_user_id=actor.id if actor else None,
            action=action,
            object_type=object_type,
            object_id=object_id,
            data=data or {},
            created_at=utcnow(),
        )
    )


def record_ticket_change(
    session: Session,
    ticket: Ticket,
    actor: User | None,
    kind: TicketEventKind,
    data: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> None:
    """The ticket event, the audit entry and the live update for one change."""
    now = at or utcnow()
    payload = data or {}
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            workspace_id=ticket.workspace_id,
            kind=str(kind),
            actor_user_id=actor.id if actor else None,
            actor=f"user:{actor.id}" if actor else "system",
            data=payload,
            created_at=now,
        )
    )
    audit(session, actor, f"ticket.{kind}", "ticket", ticket.id, ticket.workspace_id, payload)
    ticket.updated_at = now
    queue_live_event(
        session,
        LiveEvent(
            "ticket.updated", ticket.workspace_id, {"ticket_id": ticket.id, "change": str(kind)}
        ),
    )
