"""What the inbox shows of service levels: the next due time of a ticket, whether it is
breached or at risk, the "SLA at risk" set, and the lead's live queue numbers.

"At risk" is the same reading of ``sla_clocks`` as ``GET /api/v1/sla/at-risk``: running
clocks only; a clock is at risk once its warning instant (``warn_share`` of the target)
has passed, and breached once its due instant has.

Both inbox orders that involve service levels read indexes, not the whole queue (see
``due_page_ids``): ``tickets.next_due_at`` (the earliest running due time, a column the
database computes) with ``ix_tickets_ws_status_due``, and the clocks' warning instants
with ``ix_sla_clocks_ws_status_warning``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    distinct,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from socialdesk.domain.enums import UNSOLVED_STATUSES, TicketStatus
from socialdesk.routing.store import open_counts
from socialdesk.store.models import FlaggedTicketCount, Membership, SlaClock, Ticket, User
from socialdesk.store.models.base import table_of

OPEN = sorted(str(s) for s in UNSOLVED_STATUSES)
BREACHED = "breached"
AT_RISK = "at_risk"
# flagged_tickets kind: tickets with a running clock marked warned (migration 0046).
SLA_WARNED = "sla_warned"


def running_clocks(workspace_ids: Iterable[int]) -> ColumnElement[bool]:
    """Running clocks of these workspaces (the at-risk API's base condition)."""
    return and_(SlaClock.workspace_id.in_(list(workspace_ids)), SlaClock.status == "running")


def at_risk_clause(now: datetime) -> ColumnElement[bool]:
    """A running clock past its warning instant or its deadline."""
    return or_(
        SlaClock.breached.is_(True),
        SlaClock.warned.is_(True),
        SlaClock.warning_at <= now,
        SlaClock.due_at <= now,
    )


def next_due_column() -> Any:
    """The earliest of a ticket's running due times (null when none runs): the indexed
    column the database computes from the three due columns."""
    return Ticket.next_due_at


def next_due(*dues: datetime | None) -> datetime | None:
    present = [d for d in dues if d is not None]
    return min(present) if present else None


def due_label(due: datetime | None, now: datetime) -> str:
    """'due in 25 min', 'due in 3 h', 'overdue 1 h', 'overdue 2 d'; '' without a due time."""
    if due is None:
        return ""
    seconds = int((due - now).total_seconds())
    span = abs(seconds)
    if span < 3600:
        amount = f"{max(1, span // 60)} min"
    elif span < 86400 * 2:
        amount = f"{span // 3600} h"
    else:
        amount = f"{span // 86400} d"
    return f"due in {amount}" if seconds >= 0 else f"overdue {amount}"


# Statuses whose clocks are paused (waiting on the customer) or done: a breach there is
# history for reports, not an alarm for the queue.
_QUIET_STATUSES = frozenset({"pending", "solved", "closed"})


def badge_mark(status: str, running_mark: str | None, sla_breached: bool) -> str | None:
    """The SLA badge a ticket shows: a running clock's mark, else the ticket's breach flag
    unless its clocks are paused or done (a pending ticket is not the agent's to rush)."""
    if running_mark is not None:
        return running_mark
    if status in _QUIET_STATUSES or not sla_breached:
        return None
    return BREACHED


def risk_of(session: Session, ticket_ids: list[int], now: datetime) -> dict[int, str]:
    """Per ticket with a running clock at risk: 'breached' or 'at_risk' (one query)."""
    if not ticket_ids:
        return {}
    marks: dict[int, str] = {}
    rows = session.execute(
        select(SlaClock.ticket_id, SlaClock.breached, SlaClock.due_at).where(
            SlaClock.ticket_id.in_(ticket_ids), SlaClock.status == "running", at_risk_clause(now)
        )
    )
    for ticket_id, breached, due_at in rows:
        if breached or (due_at is not None and due_at <= now):
            marks[ticket_id] = BREACHED
        else:
            marks.setdefault(ticket_id, AT_RISK)
    return marks


def at_risk_tickets(workspace_ids: Iterable[int], now: datetime) -> Any:
    """Ids of tickets with a running clock breached or at risk (a subquery).

    One range of ``ix_sla_clocks_ws_status_warning``: a running clock is at risk exactly
    when its warning instant has passed. Once passed, the warning instant is fixed (a
    resume or a re-target recomputes it only while not warned), and it is never later
    than the due instant, so breached running clocks are in the range too.
    """
    # No DISTINCT: ``IN`` does not need it, and with it SQLite walks every clock in
    # ticket order instead of the warning range.
    return select(SlaClock.ticket_id).where(
        running_clocks(workspace_ids), SlaClock.warning_at <= now
    )


def at_risk_count(session: Session, workspace_ids: Iterable[int], now: datetime) -> int:
    """How many tickets are at risk: those with a running clock whose warning instant
    has passed (the same set as ``at_risk_tickets``), without reading every such clock.

    A running clock past its warning instant is almost always marked ``warned`` (the
    scan marks it when the instant passes, a pause or fulfilment past it too), and the
    tickets with a running warned clock are counted by triggers (``flagged_tickets``,
    migration 0046). Two short ranges of ``ix_sla_clocks_ws_status_warned`` correct that
    count to the exact set: unwarned running clocks already past their warning instant
    (crossed since the last scan) add their tickets, and tickets whose warned running
    clocks all have their warning instant still ahead (a scan run with a later "now" than
    this one) are taken away. Each correction skips tickets that a warned running clock
    past its warning instant already counts. No ticket rows are read: a running clock
    belongs to an unsolved ticket (pending pauses the clocks, solved and closed fulfil
    them), so the ticket's status needs no check.
    """
    params = {"workspace_ids": list(workspace_ids), "now": now}
    counted_flags, added, removed = session.execute(_at_risk_count_query(), params).one()
    return int(counted_flags or 0) + int(added or 0) - int(removed or 0)


@cache
def _at_risk_count_query() -> Select[Any]:
    """``at_risk_count``'s statement, built once: building it per call (an alias, a union,
    three subqueries) cost more Python time than the database spends running it."""
    c, f = table_of(SlaClock), table_of(FlaggedTicketCount)
    other = c.alias("flagged_clock")
    now = bindparam("now", type_=c.c.warning_at.type)
    running = and_(
        c.c.workspace_id.in_(bindparam("workspace_ids", expanding=True)),
        c.c.status == "running",
    )
    flagged = select(func.sum(f.c.ticket_count)).where(
        f.c.kind == SLA_WARNED, f.c.workspace_id.in_(bindparam("workspace_ids", expanding=True))
    )
    # A count per candidate, not NOT EXISTS: PostgreSQL would turn NOT EXISTS into an
    # anti join and might hash every warned clock; this stays one lookup of
    # ix_sla_clocks_ticket per candidate, and the candidates are few.
    counted = (
        select(func.count())
        .where(
            other.c.ticket_id == c.c.ticket_id,
            other.c.status == "running",
            other.c.warned == true(),
            other.c.warning_at <= now,
        )
        .scalar_subquery()
        == 0
    )
    # "= false", not "IS false": PostgreSQL can search an index only with the former.
    crossed = select(func.count(distinct(c.c.ticket_id))).where(
        running, c.c.warned == false(), c.c.warning_at <= now, counted
    )
    # Two ranges, not one OR: an OR would walk every warned clock.
    ahead_ids = union_all(
        *(
            select(c.c.ticket_id).where(running, c.c.warned == true(), when, counted)
            for when in (c.c.warning_at > now, c.c.warning_at.is_(None))
        )
    ).subquery()
    ahead = select(func.count(distinct(ahead_ids.c.ticket_id)))
    # One statement: the page's query count stays what it was with one range read.
    return select(flagged.scalar_subquery(), crossed.scalar_subquery(), ahead.scalar_subquery())


def at_risk_count_by_clocks(session: Session, workspace_ids: Iterable[int], now: datetime) -> int:
    """The at-risk count read from the clocks alone (every running clock past its
    warning instant): what ``at_risk_count`` must always equal; tests and the bench."""
    return int(
        session.scalar(
            select(func.count(distinct(SlaClock.ticket_id))).where(
                running_clocks(workspace_ids), SlaClock.warning_at <= now
            )
        )
        or 0
    )


def at_risk_exists(now: datetime) -> ColumnElement[bool]:
    """Correlated test for one ticket row (the page walks tickets in index order)."""
    return exists().where(
        SlaClock.ticket_id == Ticket.id,
        SlaClock.status == "running",
        SlaClock.warning_at <= now,
    )


Narrow = Callable[[Select[Any]], Select[Any]]


def _range(
    ws: int,
    status: str,
    risk_at: datetime | None,
    narrow: Narrow,
    wanted: int,
    part: int,
    key: Any,
    order: tuple[Any, ...],
    where: Any,
) -> Any:
    """One ordered index range of ``due_page_ids``, cut at ``wanted`` rows."""
    t = Ticket
    query = select(t.id.label("id"), literal(part).label("part"), key.label("key")).where(
        t.workspace_id == ws, t.status == status, where
    )
    if risk_at is not None:
        query = query.where(at_risk_exists(risk_at))
    return select(narrow(query).order_by(*order).limit(wanted).subquery())


def due_page_ids(
    session: Session,
    workspace_ids: Iterable[int],
    statuses: Iterable[str],
    *,
    sort: str,
    at_risk: bool,
    now: datetime,
    offset: int,
    limit: int,
    narrow: Narrow | None = None,
) -> list[int]:
    """Ticket ids of one inbox page for the "Time due" sort (soonest running due time
    first, tickets without one last, then id) and for the "SLA at risk" view in any
    order (``sort`` "due", "newest" or "oldest").

    Sorting the whole queue by a computed due time cannot use an index; instead each
    (workspace, status) pair is one ordered range of an index — ``ix_tickets_ws_status_due``
    for due order, ``ix_tickets_ws_status_last`` for activity order — read only up to
    ``offset + limit`` rows, and the outer query merges those short lists (a
    ``UNION ALL``, as the "most urgent" sort does). The at-risk test is a correlated
    lookup per row walked; at-risk tickets have the earliest due times, so the walk stops
    early. ``narrow`` adds the caller's other filters (channel, account, team, ...) to
    every range.
    """
    t = Ticket
    wanted = offset + limit
    narrow = narrow or (lambda query: query)
    wanted_statuses = set(statuses)
    if at_risk:
        # Pending pauses every clock (sla/tracker), so no pending ticket is at risk; its
        # range would otherwise be walked to the end without a match.
        wanted_statuses.discard(str(TicketStatus.PENDING))
    branches: list[Any] = []
    for ws in sorted(set(workspace_ids)):
        for status in sorted(wanted_statuses):
            where = (ws, status, now if at_risk else None, narrow, wanted)
            if sort == "due":
                due = t.next_due_at
                branches.append(_range(*where, 0, due, (due, t.id), due.is_not(None)))
                if not at_risk:  # at-risk tickets always have a running due time
                    # Ordered by (null) due, id: exactly the index order, so PostgreSQL
                    # reads the null range instead of walking the primary key.
                    branches.append(_range(*where, 1, due, (due, t.id), due.is_(None)))
            elif sort == "newest":
                last = t.last_message_at
                branches.append(_range(*where, 0, last, (last.desc(), t.id.desc()), true()))
            else:
                last = t.last_message_at
                branches.append(_range(*where, 0, last, (last, t.id), true()))
    if not branches:
        return []
    combined: Any = branches[0] if len(branches) == 1 else union_all(*branches)
    merged = combined.subquery()
    if sort == "newest":
        order: tuple[Any, ...] = (merged.c.key.desc(), merged.c.id.desc())
    else:
        order = (merged.c.part, merged.c.key, merged.c.id)
    return list(session.scalars(select(merged.c.id).order_by(*order).offset(offset).limit(limit)))


def live_queue(session: Session, allowed: list[int], now: datetime) -> dict[str, Any]:
    """A lead's view: queue sizes, the oldest waiting post per channel, agents' load."""
    unsolved = and_(Ticket.workspace_id.in_(allowed), Ticket.status.in_(OPEN))
    sizes = session.execute(
        select(Ticket.platform, Ticket.status, func.count())
        .where(unsolved)
        .group_by(Ticket.platform, Ticket.status)
    )
    queues: dict[str, dict[str, int]] = {}
    for platform, status, count in sizes:
        queues.setdefault(platform, {})[status] = int(count)
    oldest = session.execute(
        select(Ticket.platform, func.min(Ticket.awaiting_since))
        .where(unsolved, Ticket.needs_reply.is_(True), Ticket.awaiting_since.is_not(None))
        .group_by(Ticket.platform)
    )
    waiting = {
        platform: {"since": since, "waited_seconds": (now - since).total_seconds()}
        for platform, since in oldest
        if since is not None
    }
    members = select(Membership.user_id).where(Membership.workspace_id.in_(allowed))
    agents = list(
        session.scalars(
            select(User).where(User.id.in_(members), User.on_shift.is_(True), User.is_active)
        )
    )
    loads = open_counts(session.connection(), [a.id for a in agents])
    return {
        "queues": queues,
        "oldest_waiting": waiting,
        "agents_on_shift": [
            {
                "user_id": a.id,
                "name": a.name,
                "open_tickets": loads.get(a.id, 0),
                "max_open_tickets": a.max_open_tickets,
            }
            for a in sorted(agents, key=lambda a: a.id)
        ],
    }
