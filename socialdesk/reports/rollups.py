"""Daily rollups: the overview of closed days read from one row per day and group.

``materialise`` (the periodic worker, one runner at a time) folds each closed local day
once into ``report_rollups`` rows, one per channel, account, team and assignee, holding
``GroupStats``; it folds again the days whose tickets changed since (any new event on
one of their tickets, or on a ticket of the same customer, whose net-new flag it may
move). Time alone changes one figure of a closed day, the 24-hour response rate (an
unanswered ticket starts to count once its 24 hours pass): the rows keep those tickets'
deadlines, and a read counts the ones passed by its own moment. (Days folded before
migration 0049 carry ``exact_until`` instead and are folded again when it passes.)

``fast_overview`` answers ``GET /api/v1/reports/overview``: the closed days that have an
exact rollup from their rows, everything else (today, the open edge of a period that
does not start or end at a local midnight, days not folded yet or changed since the last
pass) from raw events exactly as ``overview.overview`` does, and the two added. Its
answer equals the raw one; tests/reports/test_rollups.py holds it to that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from socialdesk.reports.metrics import GroupBy, Period, TicketFacts, days_between, local_day
from socialdesk.reports.overview import Filters, Overview, group_labels, load_facts, workspace_zone
from socialdesk.reports.rollup_stats import ARRAYS, COUNTS, GroupStats, stats_of_facts, summary
from socialdesk.store.db import Database, utcnow
from socialdesk.store.leases import single_runner
from socialdesk.store.models import (
    ReportRollup,
    ReportRollupDay,
    ReportRollupState,
    Ticket,
    TicketEvent,
    Workspace,
)
from socialdesk.store.models.base import table_of

# The events that place a ticket on a day of the report (its opening, solves, CSAT).
DAY_KINDS = ("created", "status_changed", "reopened", "csat_recorded")
Dims = tuple[str, int | None, int | None, int | None]


def day_window(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def _dims(f: TicketFacts) -> Dims:
    return (f.channel, f.account_id, f.team_id, f.assignee_id)


# -- materialising --------------------------------------------------------------------


def fold_day(session: Session, workspace_id: int, day: date, zone: tzinfo, now: datetime) -> None:
    """Replace one closed day's rollup rows with a fresh fold of its tickets."""
    start, end = day_window(day, zone)
    facts = load_facts(session, workspace_id, start, end)
    groups, _ = stats_of_facts(facts, lambda f, _at: _dims(f), Period(start, end, zone), now)
    keyed: dict[Dims, GroupStats] = groups  # type: ignore[assignment]
    session.execute(
        delete(ReportRollup).where(
            ReportRollup.workspace_id == workspace_id, ReportRollup.day == day
        )
    )
    rows = [
        {
            "workspace_id": workspace_id,
            "day": day,
            "grain": grain,
            "channel": channel,
            "account_id": account_id,
            "team_id": team_id,
            "assignee_id": assignee_id,
            **stats.columns(),
        }
        for grain, grouped in _grains(keyed).items()
        for (channel, account_id, team_id, assignee_id), stats in grouped.items()
    ]
    if rows:
        session.execute(table_of(ReportRollup).insert(), rows)
    # Exact until one of its tickets changes: the tickets still inside their 24 hours are
    # kept as deadlines (``GroupStats.settle_pending``), so time alone moves nothing.
    _mark(session, workspace_id, day, now, None)


def _mark(
    session: Session, workspace_id: int, day: date, now: datetime, exact_until: datetime | None
) -> None:
    marker = session.get(ReportRollupDay, (workspace_id, day))
    if marker is None:
        marker = ReportRollupDay(workspace_id=workspace_id, day=day, computed_at=now)
        session.add(marker)
    marker.computed_at = now
    marker.exact_until = exact_until


def _active_days(session: Session, workspace_id: int, days: list[date], zone: tzinfo) -> set[date]:
    """Of ``days``, those on which a ticket was opened, solved or rated (the others
    are marked empty without a fold: a workspace's first event may be years back)."""
    if not days:
        return set()
    start, end = day_window(days[0], zone)[0], day_window(days[-1], zone)[1]
    moments = session.scalars(
        select(TicketEvent.created_at).where(
            TicketEvent.workspace_id == workspace_id,
            TicketEvent.kind.in_(DAY_KINDS),
            TicketEvent.created_at >= start,
            TicketEvent.created_at < end,
        )
    )
    wanted = set(days)
    return {day for at in moments if (day := local_day(at, zone)) in wanted}


GRAINS = {"all": (), "channel": (0,), "account": (1,), "team": (2,), "agent": (3,)}


def _grains(cross: dict[Dims, GroupStats]) -> dict[str, dict[Dims, GroupStats]]:
    """The cross rows and their projections on each grain (other dimensions blank)."""
    result: dict[str, dict[Dims, GroupStats]] = {"cross": cross}
    for grain, kept in GRAINS.items():
        projected: dict[Dims, GroupStats] = {}
        for dims, stats in cross.items():
            key = tuple(v if i in kept else None for i, v in enumerate(dims))
            key = ("" if key[0] is None else key[0], *key[1:])
            projected.setdefault(key, GroupStats()).add(stats)  # type: ignore[arg-type]
        result[grain] = projected
    return result


def grain_for(by: GroupBy, keep: Filters) -> str:
    """The smallest grain whose rows hold the grouping and every filter."""
    needed = {str(by)} - {"day", "none"}
    for name, value in (
        ("channel", keep.channel),
        ("account", keep.account_id),
        ("team", keep.team_id),
        ("agent", keep.agent_id),
    ):
        if value is not None:
            needed.add(name)
    if not needed:
        return "all"
    return needed.pop() if len(needed) == 1 else "cross"


def changed_days(
    session: Session, workspace_id: int, after_event_id: int, zone: tzinfo
) -> set[date]:
    """Local days whose figures events after ``after_event_id`` may have changed: every
    day a touched ticket (or another ticket of its customer) is counted on."""
    # Read the touched tickets first: between worker passes they are few (usually none),
    # and an ``IN (subquery) OR IN (subquery)`` over the event log made the database scan
    # every event of the year on each report read.
    # A range of the primary key, the workspace checked here: with the workspace in the
    # WHERE clause SQLite preferred a workspace index and read the whole year's events.
    touched = sorted(
        {
            ticket_id
            for ticket_id, ws_id in session.execute(
                select(TicketEvent.ticket_id, TicketEvent.workspace_id).where(
                    TicketEvent.id > after_event_id
                )
            )
            if ws_id == workspace_id
        }
    )
    if not touched:
        return set()
    tickets: set[int] = set()
    for chunk in _chunks(touched):
        contacts = select(Ticket.contact_id).where(
            Ticket.id.in_(chunk), Ticket.contact_id.is_not(None)
        )
        tickets.update(chunk)
        tickets.update(
            session.scalars(
                select(Ticket.id).where(
                    Ticket.workspace_id == workspace_id, Ticket.contact_id.in_(contacts)
                )
            )
        )
    days: set[date] = set()
    for chunk in _chunks(sorted(tickets)):
        moments = session.scalars(
            select(TicketEvent.created_at).where(
                TicketEvent.ticket_id.in_(chunk), TicketEvent.kind.in_(DAY_KINDS)
            )
        )
        days.update(local_day(at, zone) for at in moments)
    return days


def _chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    """Bound each ``IN`` list (SQLite's variable limit, PostgreSQL's plan size)."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def materialise_workspace(session: Session, workspace_id: int, now: datetime) -> int:
    """Fold every closed day that has no exact rollup; the number of days folded."""
    _, zone = workspace_zone(session, workspace_id)
    last_id = session.scalar(
        select(func.max(TicketEvent.id)).where(TicketEvent.workspace_id == workspace_id)
    )
    first_at = session.scalar(
        select(func.min(TicketEvent.created_at)).where(TicketEvent.workspace_id == workspace_id)
    )
    if last_id is None or first_at is None:
        return 0
    state = session.get(ReportRollupState, workspace_id)
    today = local_day(now, zone)
    folded = {
        day: exact_until
        for day, exact_until in session.execute(
            select(ReportRollupDay.day, ReportRollupDay.exact_until).where(
                ReportRollupDay.workspace_id == workspace_id
            )
        )
    }
    stale = changed_days(session, workspace_id, state.last_event_id, zone) if state else set()
    todo = [
        day
        for day in days_between(first_at, now, zone)
        if day < today
        and (
            day not in folded
            or day in stale
            or ((until := folded[day]) is not None and until <= now)
        )
    ]
    active = _active_days(session, workspace_id, todo, zone)
    for day in todo:
        if day in active:
            fold_day(session, workspace_id, day, zone, now)
        else:
            _mark(session, workspace_id, day, now, None)
    if state is None:
        session.add(
            ReportRollupState(workspace_id=workspace_id, last_event_id=last_id, updated_at=now)
        )
    else:
        state.last_event_id, state.updated_at = last_id, now
    return len(todo)


def materialise(db: Database, now: datetime | None = None) -> int | None:
    """One pass over every workspace; None when another process has the turn."""
    with single_runner(db, "report-rollups") as mine:
        if not mine:
            return None
        moment = now or utcnow()
        with db.session() as s:
            workspace_ids = list(s.scalars(select(Workspace.id)))
        total = 0
        for workspace_id in workspace_ids:
            with db.write() as s:
                total += materialise_workspace(s, workspace_id, moment)
        return total


# -- reading --------------------------------------------------------------------------


def _rollup_days(
    session: Session, workspace_id: int, days: list[date], zone: tzinfo, now: datetime
) -> set[date]:
    """Of ``days``, those whose rollup is exact now."""
    if not days:
        return set()
    state = session.get(ReportRollupState, workspace_id)
    if state is None:
        return set()
    exact = {
        day
        for day, exact_until in session.execute(
            select(ReportRollupDay.day, ReportRollupDay.exact_until).where(
                ReportRollupDay.workspace_id == workspace_id,
                ReportRollupDay.day >= days[0],
                ReportRollupDay.day <= days[-1],
            )
        )
        if exact_until is None or now < exact_until
    }
    return exact - changed_days(session, workspace_id, state.last_event_id, zone)


def _plan(
    since: datetime, until: datetime, zone: tzinfo, usable: set[date]
) -> tuple[list[date], list[tuple[datetime, datetime]]]:
    """Which whole days come from rollups, and the raw windows in between."""
    from_rollups: list[date] = []
    raw: list[tuple[datetime, datetime]] = []
    edge = since
    for day in days_between(since, until, zone):
        start, end = day_window(day, zone)
        if day in usable and since <= start and end <= until:
            if edge < start:
                raw.append((edge, start))
            from_rollups.append(day)
            edge = end
    if edge < until:
        raw.append((edge, until))
    return from_rollups, raw


def _key(by: GroupBy, day: date, dims: Dims) -> str:
    channel, account_id, team_id, assignee_id = dims
    value: object
    if by == GroupBy.DAY:
        return day.isoformat()
    if by == GroupBy.NONE:
        return "all"
    if by == GroupBy.CHANNEL:
        value = channel
    elif by == GroupBy.ACCOUNT:
        value = account_id
    elif by == GroupBy.TEAM:
        value = team_id
    else:
        value = assignee_id
    return "" if value is None else str(value)


def _merge(into: dict[str, GroupStats], parts: Iterable[tuple[str, GroupStats]]) -> None:
    for key, stats in parts:
        into.setdefault(key, GroupStats()).add(stats)


@dataclass(slots=True)
class _Parts:
    """Rollup rows of one group, gathered before they are added in one go."""

    counts: list[Sequence[int]] = field(default_factory=list)
    blobs: dict[str, list[bytes]] = field(default_factory=lambda: {n: [] for n in ARRAYS})

    def stats(self) -> GroupStats:
        summed = np.asarray(self.counts, dtype=np.int64).sum(axis=0) if self.counts else None
        return GroupStats.from_columns(
            [0] * len(COUNTS) if summed is None else summed.tolist(), self.blobs
        )


def _read_rollups(
    session: Session, workspace_id: int, by: GroupBy, days: list[date], keep: Filters
) -> dict[str, _Parts]:
    """The rollup rows of ``days`` that pass the filters, gathered per group key (plain
    rows, no ORM objects: a year is tens of thousands of them)."""
    chosen = set(days)
    table = table_of(ReportRollup)
    counts = [table.c[name] for name in COUNTS]
    blobs = [table.c[f"{name}_values"] for name in ARRAYS]
    query = select(
        table.c.day,
        table.c.channel,
        table.c.account_id,
        table.c.team_id,
        table.c.assignee_id,
        *counts,
        *blobs,
    ).where(
        table.c.workspace_id == workspace_id,
        table.c.grain == grain_for(by, keep),
        table.c.day >= days[0],
        table.c.day <= days[-1],
    )
    for column, value in (
        (table.c.channel, keep.channel),
        (table.c.account_id, keep.account_id),
        (table.c.team_id, keep.team_id),
        (table.c.assignee_id, keep.agent_id),
    ):
        if value is not None:
            query = query.where(column == value)
    parts: dict[str, _Parts] = {}
    first_blob = 5 + len(COUNTS)
    for row in session.connection().execute(query):
        day = row[0]
        if day not in chosen:
            continue
        key = _key(by, day, (row[1], row[2], row[3], row[4]))
        part = parts.get(key)
        if part is None:
            part = parts[key] = _Parts()
        part.counts.append(row[5:first_blob])
        for offset, name in enumerate(ARRAYS):
            part.blobs[name].append(row[first_blob + offset])
    return parts


def fast_overview(
    session: Session,
    workspace_id: int,
    since: datetime,
    until: datetime,
    by: GroupBy,
    now: datetime,
    filters: Filters | None = None,
) -> Overview:
    zone_name, zone = workspace_zone(session, workspace_id)
    keep = filters or Filters()
    whole = [
        d
        for d in days_between(since, until, zone)
        if since <= day_window(d, zone)[0] and day_window(d, zone)[1] <= until
    ]
    rollup_days, raw_windows = _plan(
        since, until, zone, _rollup_days(session, workspace_id, whole, zone, now)
    )
    groups: dict[str, GroupStats] = {}
    total = GroupStats()
    if rollup_days:
        parts = _read_rollups(session, workspace_id, by, rollup_days, keep)
        everything = _Parts()
        for key, part in parts.items():
            groups[key] = part.stats()
            everything.counts.extend(part.counts)
            for name in ARRAYS:
                everything.blobs[name].extend(part.blobs[name])
        total = everything.stats()
    for start, end in raw_windows:
        facts = [f for f in load_facts(session, workspace_id, start, end) if keep.keep(f)]

        def key_of(f: TicketFacts, at: datetime) -> str:
            return _key(by, local_day(at, zone), _dims(f))

        window_groups, window_total = stats_of_facts(facts, key_of, Period(start, end, zone), now)
        _merge(groups, window_groups.items())
        total.add(window_total)
    for stats in (*groups.values(), total):
        stats.settle_pending(now)
    return _assemble(session, by, since, until, zone, zone_name, groups, total)


def _assemble(
    session: Session,
    by: GroupBy,
    since: datetime,
    until: datetime,
    zone: tzinfo,
    zone_name: str,
    groups: dict[str, GroupStats],
    total: GroupStats,
) -> Overview:
    if by == GroupBy.DAY:
        for day in days_between(since, until, zone):
            groups.setdefault(day.isoformat(), GroupStats())
        keys = sorted(groups)
        labels: dict[str, str] = {k: k for k in keys}
    else:
        if by == GroupBy.NONE:
            groups.setdefault("all", GroupStats())
        names = group_labels(session, by, sorted(k for k in groups if k))
        missing = {
            GroupBy.TEAM: "(no team)",
            GroupBy.AGENT: "(unassigned)",
            GroupBy.ACCOUNT: "(no account)",
        }.get(by, "(none)")
        labels = {
            k: "All" if by == GroupBy.NONE else (names.get(k, k) if k else missing) for k in groups
        }
        keys = sorted(groups, key=lambda k: labels[k])
    rows: list[dict[str, Any]] = [summary(k, labels[k], groups[k]) for k in keys]
    return Overview(by, since, until, zone_name, rows, summary("total", "Total", total))
