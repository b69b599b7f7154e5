from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.domain.enums import TicketEventKind
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.db import utcnow
from socialdesk.store.models import AuditEntry, Membership, Ticket, TicketEvent, User


class ActionError(Exception):
    """A write that cannot be done as asked; the message is shown to the user.

    Every door (API route, page, worker) maps it the same way: ``status_code`` is the
    HTTP status, ``code`` (when set) a machine-readable name clients can branch on."""

    code: str | None = None

    def __init__(
        self, message: str, status_code: int = 400, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.details = details


class RoleRefused(ActionError):
    """The actor's role may not do this (viewers read only, reviewers review...)."""

    code = "role_refused"

    def __init__(self, message: str) -> None:
        super().__init__(message, 403)


class NeedsConfirmation(ActionError):
    """The write would surprise someone (a second public reply, an approval after a
    colleague already answered): done only when asked again with ``confirm``."""

    def __init__(self, message: str, code: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, 409, details=details)
        self.code = code


def require_role(actor: User | None, roles: Iterable[str], message: str) -> None:
    """Refuse unless ``actor`` has one of ``roles``; ``None`` is the system (rules,
    workers, the CLI), which the caller has already trusted."""
    if actor is not None and actor.role not in set(roles):
        raise RoleRefused(message)


def audit(
    session: Session,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int | None,
    workspace_id: int,
    data: dict[str, Any] | None = None,
) -> None:
    """One audit entry, always in a workspace: each workspace's log shows only its own."""
    if workspace_id is None:
        raise ValueError(f"audit entry {action!r} needs its workspace")
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


def audit_user(
    session: Session,
    actor: User | None,
    action: str,
    user: User,
    data: dict[str, Any] | None = None,
    *,
    workspace_ids: Iterable[int] | None = None,
) -> None:
    """A change to a person (role, shift, activation): an entry in each workspace the
    person belongs to (or the ``workspace_ids`` given), never a workspace-less one that
    every workspace's log would show."""
    if workspace_ids is None:
        workspace_ids = session.scalars(
            select(Membership.workspace_id).where(Membership.user_id == user.id)
        )
    for workspace_id in sorted(set(workspace_ids)):
        audit(session, actor, action, "user", user.id, workspace_id, data)


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
