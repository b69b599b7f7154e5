"""Retrying failed raw events: back to ``pending`` for the raw-event worker (which
parses them again from their stored body), with an audit entry per workspace (the
workspace of the event's account; for a delivery that names no account we know, each
of the caller's workspaces).
The last reason stays in ``error`` until the event is processed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, audit, require_role
from socialdesk.domain.enums import RawEventStatus
from socialdesk.store.models import RawEvent, User, Workspace
from socialdesk.store.repos.raw_events import RawEventRow, list_raw_events

# Ids named in one audit entry; a retry-all of thousands records the count and the first.
AUDITED_IDS = 100
PAGE = 1000


def retry_raw_event(
    session: Session, actor: User | None, raw_id: int, workspace_ids: Sequence[int] | None
) -> int:
    """Requeue one failed raw event; ``ActionError`` 404 when it is not visible to the
    caller, 409 when it is not failed (already pending again or processed)."""
    require_role(actor, ("admin",), "only admins retry failed deliveries")
    event = session.get(RawEvent, raw_id)
    if event is None or not list_raw_events(
        session, status=event.status, workspace_ids=workspace_ids, ids=[raw_id], limit=1
    ):
        raise ActionError(f"no raw event {raw_id}", status_code=404)
    if event.status != RawEventStatus.FAILED:
        raise ActionError(f"raw event {raw_id} is {event.status}, not failed", status_code=409)
    retried = retry_raw_events(session, actor, workspace_ids, ids=[raw_id])
    return retried[0]


def retry_raw_events(
    session: Session,
    actor: User | None,
    workspace_ids: Sequence[int] | None,
    ids: Sequence[int] | None = None,
) -> list[int]:
    """Requeue the failed raw events visible to the caller (all of them, or those of
    ``ids``); the ids requeued, oldest first. ``workspace_ids`` None: every one (the CLI).
    Admins only."""
    require_role(actor, ("admin",), "only admins retry failed deliveries")
    visible = _failed_visible(session, workspace_ids, ids)
    if not visible:
        return []
    requeued: set[int] = set()
    for start in range(0, len(visible), PAGE):
        part = [row.id for row in visible[start : start + PAGE]]
        # Failed only: one requeued meanwhile by someone else is not counted twice.
        result = session.execute(
            update(RawEvent)
            .where(RawEvent.id.in_(part), RawEvent.status == str(RawEventStatus.FAILED))
            .values(status=str(RawEventStatus.PENDING), next_attempt_at=None, processed_at=None)
            .returning(RawEvent.id)
        )
        requeued.update(result.scalars())
    by_workspace: dict[int, list[int]] = defaultdict(list)
    unattributed = _workspaces_for_unattributed(session, workspace_ids)
    for row in visible:
        if row.id not in requeued:
            continue
        # A webhook names its account only in its body: the retry is recorded in every
        # workspace of the caller (every workspace for the CLI).
        for workspace_id in [row.workspace_id] if row.workspace_id else unattributed:
            by_workspace[workspace_id].append(row.id)
    for workspace_id, group in by_workspace.items():
        group.sort()
        audit(
            session,
            actor,
            "raw_event.retried",
            "raw_event",
            group[0] if len(group) == 1 else None,
            workspace_id,
            {"count": len(group), "ids": group[:AUDITED_IDS]},
        )
    return sorted(requeued)


def _workspaces_for_unattributed(
    session: Session, workspace_ids: Sequence[int] | None
) -> list[int]:
    if workspace_ids is not None:
        return sorted(set(workspace_ids))
    return list(session.scalars(select(Workspace.id).order_by(Workspace.id)))


def _failed_visible(
    session: Session, workspace_ids: Sequence[int] | None, ids: Sequence[int] | None
) -> list[RawEventRow]:
    found: list[RawEventRow] = []
    before: int | None = None
    while True:
        page = list_raw_events(
            session,
            status=str(RawEventStatus.FAILED),
            workspace_ids=workspace_ids,
            ids=ids,
            limit=PAGE,
            before=before,
        )
        found.extend(page)
        if len(page) < PAGE:
            return found
        before = page[-1].id
