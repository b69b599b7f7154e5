"""Daily report rollups (``socialdesk/reports/rollups.py``): the overview's figures of
one closed local day, per channel, account, team and assignee, so a year reads in
hundreds of rows rather than millions of events.

Rows come in grains (the day's total, per channel, per account, per team, per agent,
and per all four at once) so a year's answer reads about one row a day and group. A
rollup row keeps counts and, for every duration a median or percentile is taken of,
the day's values themselves (float64, packed): a median of medians would be
wrong, and a histogram would round. ``report_rollup_days`` says which days are
materialised and until when they stay exact; ``report_rollup_state`` holds the last
event the materialiser has seen.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.store.models.base import Base, BigId


class ReportRollup(Base):
    __tablename__ = "report_rollups"
    __table_args__ = (Index("ix_report_rollups_ws_grain_day", "workspace_id", "grain", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    # Which dimensions the row splits by: "all" (the day's total), one of "channel",
    # "account", "team", "agent" (the others left empty), or "cross" (all four, for a
    # filter combined with another grouping). A report reads the smallest that answers.
    grain: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[int | None] = mapped_column(default=None)
    team_id: Mapped[int | None] = mapped_column(default=None)
    assignee_id: Mapped[int | None] = mapped_column(default=None)
    # Counts that add up (reports/rollup_stats.py COUNTS).
    opened: Mapped[int] = mapped_column(default=0)
    solved: Mapped[int] = mapped_column(default=0)
    reopened: Mapped[int] = mapped_column(default=0)
    replies: Mapped[int] = mapped_column(default=0)
    touches: Mapped[int] = mapped_column(default=0)
    notes: Mapped[int] = mapped_column(default=0)
    auto_replies: Mapped[int] = mapped_column(default=0)
    answered_24h: Mapped[int] = mapped_column(default=0)
    eligible_24h: Mapped[int] = mapped_column(default=0)
    net_new: Mapped[int] = mapped_column(default=0)
    peer: Mapped[int] = mapped_column(default=0)
    csat_sum: Mapped[int] = mapped_column(default=0)
    csat_count: Mapped[int] = mapped_column(default=0)
    # The durations themselves (ARRAYS): float64 little-endian, so the rows of many days
    # join into one array with a single bytes join.
    first_values: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    resolution_values: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    full_values: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    following_values: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    handled_values: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    # Not durations: when each ticket still inside its first 24 hours, unanswered, starts
    # to count for the response rate (microseconds since the epoch).
    pending_values: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


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
