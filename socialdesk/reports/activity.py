"""What the desk handled recently, bucketed for charts: customer posts per hour by
network, and service-level targets met or missed per day. Both read the ticket event
log through its (workspace, kind, time) index, so they cost the same at any table size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from socialdesk.domain.enums import TicketEventKind
from socialdesk.store.models import Ticket, TicketEvent


@dataclass(frozen=True, slots=True)
class HourlyVolume:
    hours: list[datetime]  # start of each hour, oldest first
    by_network: dict[str, list[int]]  # network → posts in each hour

    @property
    def total(self) -> int:
        return sum(sum(counts) for counts in self.by_network.values())


@dataclass(frozen=True, slots=True)
class DailyAttainment:
    day: datetime
    met: int
    missed: int

    @property
    def share_met(self) -> float | None:
        concluded = self.met + self.missed
        return self.met / concluded if concluded else None


def _truncated(session: Session, column: Any, unit: str) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc(unit, func.timezone("UTC", column))
    pattern = "%Y-%m-%d %H:00:00" if unit == "hour" else "%Y-%m-%d 00:00:00"
    return func.strftime(pattern, column)


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def hour_starts(now: datetime, hours: int) -> list[datetime]:
    """The last ``hours`` hour starts ending with the current hour, oldest first."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=n) for n in range(hours - 1, -1, -1)]


def day_starts(now: datetime, days: int) -> list[datetime]:
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def inbound_per_hour(
    session: Session, workspace_ids: Sequence[int], now: datetime, hours: int = 24
) -> HourlyVolume:
    starts = hour_starts(now, hours)
    bucket = _truncated(session, TicketEvent.created_at, "hour")
    rows = session.execute(
        select(bucket, Ticket.platform, func.count())
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            TicketEvent.workspace_id.in_(list(workspace_ids)),
            TicketEvent.kind == str(TicketEventKind.MESSAGE_RECEIVED),
            TicketEvent.created_at >= starts[0],
            TicketEvent.created_at <= now,
        )
        .group_by(bucket, Ticket.platform)
    )
    position = {start: i for i, start in enumerate(starts)}
    by_network: dict[str, list[int]] = {}
    for hour, platform, count in rows:
        index = position.get(_as_utc(hour))
        if index is not None:
            by_network.setdefault(platform, [0] * hours)[index] += int(count)
    return HourlyVolume(starts, dict(sorted(by_network.items())))


def sla_attainment_per_day(
    session: Session, workspace_ids: Sequence[int], now: datetime, days: int = 7
) -> list[DailyAttainment]:
    """Per day: targets fulfilled in time (met) and targets breached (missed).

    A target that was breached and later fulfilled counts once, as missed, on the day of
    its breach.
    """
    starts = day_starts(now, days)
    bucket = _truncated(session, TicketEvent.created_at, "day")
    breached_flag = TicketEvent.data["breached"].as_boolean()
    met = and_(
        TicketEvent.kind == str(TicketEventKind.SLA_FULFILLED),
        or_(breached_flag.is_(None), breached_flag.is_(False)),
    )
    rows = session.execute(
        select(bucket, TicketEvent.kind, func.count())
        .where(
            TicketEvent.workspace_id.in_(list(workspace_ids)),
            or_(met, TicketEvent.kind == str(TicketEventKind.SLA_BREACHED)),
            TicketEvent.created_at >= starts[0],
            TicketEvent.created_at <= now,
        )
        .group_by(bucket, TicketEvent.kind)
    )
    counts = {start: [0, 0] for start in starts}
    for day, kind, count in rows:
        slot = counts.get(_as_utc(day))
        if slot is not None:
            slot[0 if kind == TicketEventKind.SLA_FULFILLED else 1] += int(count)
    return [DailyAttainment(day, met_, missed) for day, (met_, missed) in counts.items()]
