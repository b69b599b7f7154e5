"""Raw events for admins: the failed (and waiting) deliveries, with their reasons.

Never the body or the headers: a body is a customer's post and the headers carry the
network's signature; the id, source, times, attempts and reason are enough to decide
on a retry (the body stays in the database for whoever needs to look closer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from socialdesk.store.models import ChannelAccount, RawEvent


@dataclass(frozen=True, slots=True)
class RawEventRow:
    id: int
    source: str
    status: str
    received_at: datetime
    attempts: int
    reason: str | None
    next_attempt_at: datetime | None
    channel_account_id: int | None
    workspace_id: int | None
    split_from_id: int | None


def visible_to(workspace_ids: Sequence[int] | None) -> ColumnElement[bool]:
    """Raw events of these workspaces' accounts, and those no account is known for yet
    (a webhook names its account in the body); every one when ``None``."""
    if workspace_ids is None:
        return RawEvent.id.is_not(None)
    accounts = select(ChannelAccount.id).where(ChannelAccount.workspace_id.in_(workspace_ids))
    return or_(RawEvent.channel_account_id.is_(None), RawEvent.channel_account_id.in_(accounts))


def list_raw_events(
    session: Session,
    *,
    status: str,
    workspace_ids: Sequence[int] | None = None,
    ids: Sequence[int] | None = None,
    limit: int = 50,
    before: int | None = None,
) -> list[RawEventRow]:
    """Newest first; ``before`` is the last id of the previous page."""
    query = (
        select(RawEvent, ChannelAccount.workspace_id)
        .outerjoin(ChannelAccount, ChannelAccount.id == RawEvent.channel_account_id)
        .where(RawEvent.status == status, visible_to(workspace_ids))
    )
    if ids is not None:
        query = query.where(RawEvent.id.in_(list(ids)))
    if before is not None:
        query = query.where(RawEvent.id < before)
    rows = session.execute(query.order_by(RawEvent.id.desc()).limit(limit)).all()
    return [
        RawEventRow(
            id=r.id,
            source=r.source,
            status=r.status,
            received_at=r.received_at,
            attempts=r.attempts,
            reason=r.error,
            next_attempt_at=r.next_attempt_at,
            channel_account_id=r.channel_account_id,
            workspace_id=workspace_id,
            split_from_id=r.split_from_id,
        )
        for r, workspace_id in rows
    ]


def count_raw_events(
    session: Session, *, status: str, workspace_ids: Sequence[int] | None = None
) -> int:
    query = select(func.count()).where(RawEvent.status == status, visible_to(workspace_ids))
    return session.scalar(query) or 0
