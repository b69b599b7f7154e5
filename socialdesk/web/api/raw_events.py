"""Raw events for admins: failed deliveries with their reasons, and retrying them.

``GET /raw-events?status=failed`` lists them (never the body or headers), ``POST
/raw-events/{id}/retry`` requeues one and ``POST /raw-events/retry`` every failed one
the caller can see; the raw-event worker then parses them again."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from socialdesk.actions import raw_events as raw_actions
from socialdesk.domain.enums import Role
from socialdesk.store.repos.raw_events import RawEventRow, count_raw_events, list_raw_events
from socialdesk.web.api.params import DbId, IdPath
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, require_role, workspace_ids

router = APIRouter(prefix="/raw-events", tags=["raw events"])
Status = Literal["failed", "pending"]


def _out(row: RawEventRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "source": row.source,
        "status": row.status,
        "received_at": row.received_at,
        "attempts": row.attempts,
        "reason": row.reason,
        "next_attempt_at": row.next_attempt_at,
        "channel_account_id": row.channel_account_id,
        "split_from_id": row.split_from_id,
    }


@router.get("")
def list_events(
    session: ReadSession,
    user: CurrentUser,
    status: Status = "failed",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[DbId | None, Query()] = None,
) -> dict[str, Any]:
    """Newest first; ``before`` is the last id of the previous page (``next_before``).
    ``pending`` shows what waits, with the last transient error and the next attempt."""
    require_role(user, Role.ADMIN)
    ws = workspace_ids(session, user)
    rows = list_raw_events(session, status=status, workspace_ids=ws, limit=limit + 1, before=before)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "data": [_out(r) for r in rows],
        "total": count_raw_events(session, status=status, workspace_ids=ws),
        "next_before": rows[-1].id if more and rows else None,
    }


@router.post("/retry")
def retry_all(request: Request, session: WriteSession, user: CurrentUser) -> dict[str, Any]:
    """Every failed raw event the caller can see, back to pending."""
    require_role(user, Role.ADMIN)
    retried = raw_actions.retry_raw_events(session, user, workspace_ids(session, user))
    _kick(request)
    return {"retried": retried, "count": len(retried)}


@router.post("/{raw_id}/retry")
def retry_one(
    request: Request, raw_id: IdPath, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    require_role(user, Role.ADMIN)
    retried = raw_actions.retry_raw_event(session, user, raw_id, workspace_ids(session, user))
    _kick(request)
    return {"retried": [retried], "count": 1}


def _kick(request: Request) -> None:
    """The worker of this process looks at once (after the commit it may find nothing
    yet; its quarter-second interval picks the events up then)."""
    worker = getattr(request.app.state, "raw_event_worker", None)
    if worker is not None:
        worker.kick()
