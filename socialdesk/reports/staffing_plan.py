"""The staffing plan of a workspace: the last weeks' hourly inbound volume and measured
handle time read from the ticket event index, planned by Erlang C
(``reports/staffing.py``)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.reports.metrics import HANDLE_KINDS
from socialdesk.reports.overview import Filters, inbound_moments, workspace_zone
from socialdesk.reports.staffing import (
    ChannelCoverage,
    HourPlan,
    Slot,
    channel_coverage,
    history_window,
    scaled,
    weekly_arrivals,
    weekly_plan,
    weekly_presence,
)
from socialdesk.store.models import Ticket, TicketEvent

# Used when no handle time was measured in the window and none was given.
DEFAULT_HANDLE_SECONDS = 300.0


@dataclass(slots=True)
class StaffingPlan:
    since: datetime
    until: datetime
    timezone: str
    weeks: int
    target: float
    within_seconds: float
    handle_seconds: float
    # "parameter" (asked for), "measured" (mean of the window's measurements), "default"
    handle_seconds_source: str
    handle_measurements: int
    hours: list[HourPlan] = field(default_factory=list)
    # "history", "history x 1.3" (grown), or "forecast" (entered by the lead).
    arrivals_source: str = "history"
    coverage: list[ChannelCoverage] = field(default_factory=list)

    @property
    def peak_agents(self) -> int:
        return max((h.agents_needed for h in self.hours), default=0)

    @property
    def agent_hours(self) -> int:
        """Agent-hours a week the plan asks for (before breaks and absence)."""
        return sum(h.agents_needed for h in self.hours)

    def as_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "timezone": self.timezone,
            "weeks": self.weeks,
            "target": self.target,
            "within_seconds": self.within_seconds,
            "handle_seconds": round(self.handle_seconds, 1),
            "handle_seconds_source": self.handle_seconds_source,
            "handle_measurements": self.handle_measurements,
            "peak_agents": self.peak_agents,
            "agent_hours_per_week": self.agent_hours,
            "arrivals_source": self.arrivals_source,
            "hours": [h.as_json() for h in self.hours],
            "coverage": [c.as_json() for c in self.coverage],
        }


def _measured_handle_seconds(
    session: Session, workspace_id: int, since: datetime, until: datetime
) -> list[float]:
    rows = session.scalars(
        select(TicketEvent.data).where(
            TicketEvent.workspace_id == workspace_id,
            TicketEvent.kind.in_(sorted(HANDLE_KINDS)),
            TicketEvent.created_at >= since,
            TicketEvent.created_at < until,
        )
    )
    measured: list[float] = []
    for data in rows:
        value = (data or {}).get("handle_seconds")
        if isinstance(value, int | float) and 0 < value < float("inf"):
            measured.append(float(value))
    return measured


def _answers(
    session: Session, workspace_id: int, since: datetime, until: datetime
) -> list[tuple[datetime, int]]:
    """(moment, agent) of every agent's reply or logged contact in the window."""
    return [
        (at, actor)
        for at, actor in session.execute(
            select(TicketEvent.created_at, TicketEvent.actor_user_id).where(
                TicketEvent.workspace_id == workspace_id,
                TicketEvent.kind.in_(("replied", "contact_logged")),
                TicketEvent.created_at >= since,
                TicketEvent.created_at < until,
                TicketEvent.actor_user_id.is_not(None),
            )
        )
        if actor is not None
    ]


def _answers_by_channel(
    session: Session, workspace_id: int, since: datetime, until: datetime
) -> list[tuple[datetime, str]]:
    """(moment, channel) of every agent's reply or logged contact in the window."""
    return [
        (at, str(platform))
        for at, platform in session.execute(
            select(TicketEvent.created_at, Ticket.platform)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(
                TicketEvent.workspace_id == workspace_id,
                TicketEvent.kind.in_(("replied", "contact_logged")),
                TicketEvent.created_at >= since,
                TicketEvent.created_at < until,
                TicketEvent.actor_user_id.is_not(None),
            )
        )
    ]


def plan_staffing(
    session: Session,
    workspace_id: int,
    now: datetime,
    *,
    weeks: int,
    target: float,
    within_seconds: float,
    handle_seconds: float | None = None,
    filters: Filters | None = None,
    forecast: dict[Slot, float] | None = None,
    growth: float | None = None,
) -> StaffingPlan:
    """Agents needed in each hour of the week, from the last ``weeks`` weeks (times an
    expected ``growth``), or from an entered ``forecast`` of arrivals per hour."""
    zone_name, zone = workspace_zone(session, workspace_id)
    since, until = history_window(now, weeks)
    # Handle times up to now: the hour under way has measured some already.
    measured = _measured_handle_seconds(session, workspace_id, since, now)
    if handle_seconds is not None:
        handle, source = handle_seconds, "parameter"
    elif measured:
        handle, source = statistics.fmean(measured), "measured"
    else:
        handle, source = DEFAULT_HANDLE_SECONDS, "default"
    if forecast is not None:
        arrivals, arrivals_source = forecast, "forecast"
    else:
        moments = inbound_moments(session, workspace_id, since, until, filters or Filters())
        arrivals, arrivals_source = weekly_arrivals(moments, zone, weeks), "history"
        if growth is not None and growth != 1:
            arrivals, arrivals_source = scaled(arrivals, growth), f"history x {growth:g}"
    presence = weekly_presence(_answers(session, workspace_id, since, until), zone, weeks)
    hours = weekly_plan(arrivals, handle, target, within_seconds, presence)
    return StaffingPlan(
        since=since,
        until=until,
        timezone=zone_name,
        weeks=weeks,
        target=target,
        within_seconds=within_seconds,
        handle_seconds=handle,
        handle_seconds_source=source,
        handle_measurements=len(measured),
        hours=hours,
        arrivals_source=arrivals_source,
        coverage=channel_coverage(
            _answers_by_channel(session, workspace_id, since, until), zone, weeks
        ),
    )
