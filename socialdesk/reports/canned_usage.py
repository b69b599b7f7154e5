"""Which canned answers the team leans on and which nobody uses: counted by the reply
action each time a sent reply names the canned answer it was written with (all time,
not per period: the count is a running total)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.store.models import CannedResponse


@dataclass(frozen=True)
class CannedUse:
    id: int
    shortcut: str
    title: str
    category: str
    usage_count: int
    last_used_at: datetime | None
    created_at: datetime

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "shortcut": self.shortcut,
            "title": self.title,
            "category": self.category,
            "usage_count": self.usage_count,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class CannedUsage:
    most_used: list[CannedUse]  # the most used first, at most ``limit``
    never_used: list[CannedUse]  # oldest first: the longest ignored lead the list
    total: int


def canned_usage(session: Session, workspace_id: int, limit: int = 10) -> CannedUsage:
    rows = [
        CannedUse(
            c.id,
            c.shortcut,
            c.title,
            c.category,
            c.usage_count or 0,
            c.last_used_at,
            c.created_at,
        )
        for c in session.scalars(
            select(CannedResponse).where(CannedResponse.workspace_id == workspace_id)
        )
    ]
    used = sorted(
        (r for r in rows if r.usage_count),
        key=lambda r: (-r.usage_count, r.shortcut),
    )
    never = sorted((r for r in rows if not r.usage_count), key=lambda r: (r.created_at, r.id))
    return CannedUsage(used[:limit], never, len(rows))
