"""E-mail notifications for admins and leads: what was queued, sent, or is waiting
because SMTP is not configured (``socialdesk/notify``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from socialdesk.domain.enums import Role
from socialdesk.store.models import NotificationOutboxEntry
from socialdesk.web.deps import CurrentUser, ReadSession, require_role, workspace_ids

router = APIRouter(tags=["notifications"])
State = Literal["queued", "sending", "sent", "failed", "not_configured"]


@router.get("/notifications/email-outbox")
def email_outbox(
    request: Request,
    session: ReadSession,
    user: CurrentUser,
    state: State | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Newest first. ``smtp_configured`` says whether the workers can send at all."""
    require_role(user, Role.ADMIN, Role.LEAD)
    e = NotificationOutboxEntry
    query = select(e).where(e.workspace_id.in_(workspace_ids(session, user)))
    if state is not None:
        query = query.where(e.state == state)
    rows = session.scalars(query.order_by(e.id.desc()).limit(limit)).all()
    worker = getattr(request.app.state, "notify_worker", None)
    return {
        "smtp_configured": bool(worker is not None and worker.config is not None),
        "data": [
            {
                "id": r.id,
                "ticket_id": r.ticket_id,
                "rule_id": r.rule_id,
                "recipients": r.recipients,
                "subject": r.subject,
                "state": r.state,
                "attempts": r.attempts,
                "last_error": r.last_error,
                "created_at": r.created_at,
                "sent_at": r.sent_at,
            }
            for r in rows
        ],
    }
