"""Daily report rollups (``socialdesk/reports/rollups.py``): the overview's figures of
one closed local day, per channel, account, team and assignee, so a year reads in
hundreds of rows rather than millions of events.

A rollup row keeps counts and, for every duration a median or percentile is taken of,
the day's values themselves (sorted float64, packed): a median of medians would be
wrong, and a histogram would round. ``report_rollup_days`` says which days are
materialised and until when they stay exact; ``report_rollup_state`` holds the last
event the materialiser has seen.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.store.models.base import Base, BigId


class ReportRollup(Base):
    __tablename__ = "report_rollups"
    __table_args__ = (Index("ix_report_rollups_ws_day", "workspace_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[int | None] = mapped_column(default=None)
    team_id: Mapped[int | None] = mapped_column(default=None)
    assignee_id: Mapped[int | None] = mapped_column(default=None)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # {"first": bytes, "resolution": …}: float64 little-endian, sorted.
    values: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class ReportRollupDay(Base):
    __tablename__ = "report_rollup_days"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    computed_at: Mapped[datetime]
    # The day's 24-hour response rate changes by itself at this moment (a ticket still
    # unanswered then passes its 24 hours): the rollup is exact only before it.
    exact_until: Mapped[datetime | None] = mapped_column(default=None)


class ReportRollupState(Base):
    __tablename__ = "report_rollup_state"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    last_event_id: Mapped[int] = mapped_column(BigId, default=0)
    updated_at: Mapped[datetime]
