"""The inbox's views: which tickets each one shows (``_filter`` / ``_narrow``, shared by
the list, saved filters and counts) and the counts beside them, cached a few seconds."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace
from threading import Lock
from typing import Any, Literal, Protocol

from sqlalchemy import Select, func, literal, select, union_all
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from socialdesk.domain.enums import TicketStatus
from socialdesk.sla import views as sla_views
from socialdesk.store.db import utcnow
from socialdesk.store.models import ChannelAccount, SavedFilter, Ticket, TicketViewCount
from socialdesk.store.repos.tickets import (
    UNSOLVED,
    WAITING_STATUSES,
    TicketFilter,
    due_promise_count,
    filter_for_view,
    narrowing,
    scope,
)
from socialdesk.web.sessions import WebUser

log = logging.getLogger(__name__)
View = Literal[
    "needs_reply", "unassigned", "mine", "open", "pending", "solved", "at_risk", "promises_due"
]
# "Needs reply" first and the default: the customers waiting on us, longest wait first.
DEFAULT_VIEW: View = "needs_reply"
VIEWS: list[tuple[str, str]] = [
    ("needs_reply", "Needs reply"),
    ("unassigned", "Unassigned"),
    ("mine", "Mine"),
    ("open", "All open"),
    ("pending", "Pending"),
    ("solved", "Solved"),
    ("at_risk", "SLA at risk"),
    ("promises_due", "Promises due"),
]
# Counts read counter rows kept by triggers (ticket_view_counts, flagged_ticket_counts)
# plus the few clocks and promises whose instant passed since the last scan; a few
# seconds of staleness keeps the page fast with hundreds of thousands of tickets. Live
# events refresh the list, not the counts.
COUNT_TTL_SECONDS = 5.0


@dataclass
class Counts:
    views: dict[str, int]
    by_account: dict[int, int]
    by_platform: dict[str, int]
    by_team: dict[int, int]
    # Saved filter id -> tickets matching it (only when the user has saved filters).
    saved: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Grouped:
    """Tickets per (status, account, team, assignee) and the at-risk count of a set of
    workspaces: the same for every agent, so one miss serves them all."""

    rows: list[tuple[str, int | None, int | None, int | None, int]]
    at_risk: int
    needs_reply: int = 0
    promises_due: int = 0


_count_cache: dict[tuple[Any, ...], tuple[float, _Grouped]] = {}
_saved_cache: dict[tuple[Any, ...], tuple[float, dict[int, int]]] = {}
_count_lock = Lock()
count_misses = 0  # how often the counts were computed (bench pages reports misses)


def _grouped(session: Session, workspace_ids: tuple[int, ...]) -> _Grouped:
    global count_misses
    now = time.monotonic()
    with _count_lock:
        hit = _count_cache.get(workspace_ids)
    if hit and now - hit[0] < COUNT_TTL_SECONDS:
        return hit[1]
    # The counter rows the tickets' triggers keep (store/models/ticket_counts.py): a few
    # hundred rows however many tickets there are, so a miss reads no ticket.
    c = TicketViewCount
    statuses = sorted(UNSOLVED | {str(TicketStatus.SOLVED)})
    rows = [
        (str(status), account_id or None, team_id or None, assignee_id or None, int(n))
        for status, account_id, team_id, assignee_id, n in session.execute(
            select(
                c.status, c.channel_account_id, c.team_id, c.assignee_id, func.sum(c.ticket_count)
            )
            .where(c.workspace_id.in_(workspace_ids), c.status.in_(statuses), c.ticket_count > 0)
            .group_by(c.status, c.channel_account_id, c.team_id, c.assignee_id)
        )
    ]
    # Tickets breached or past their warning share (the SLA at-risk view).
    at_risk = sla_views.at_risk_count(session, workspace_ids, utcnow())
    # "Needs reply" (repos/tickets.py view_condition) is the counters' needs_reply flag.
    needs_reply = session.scalar(
        select(func.sum(c.ticket_count)).where(
            c.workspace_id.in_(workspace_ids),
            c.needs_reply == 1,
            c.status.in_(sorted(WAITING_STATUSES)),
        )
    )
    # Both clock-bound counts start from trigger-kept counts of the tickets the scans
    # flagged, plus the few rows whose instant passed since (migration 0046).
    promises_due = due_promise_count(session, workspace_ids, utcnow())
    grouped = _Grouped(rows, at_risk, int(needs_reply or 0), int(promises_due or 0))
    with _count_lock:
        _count_cache[workspace_ids] = (now, grouped)
        count_misses += 1
    return grouped


def view_counts(session: Session, user: WebUser, platform_of: dict[int, str]) -> Counts:
    grouped = _grouped(session, tuple(user.workspace_ids))
    views = dict.fromkeys((v for v, _ in VIEWS), 0)
    by_account: dict[int, int] = {}
    by_platform: dict[str, int] = {}
    by_team: dict[int, int] = {}
    for status, account_id, team_id, assignee_id, n in grouped.rows:
        if status == TicketStatus.SOLVED:
            views["solved"] += n
            continue
        views["open"] += n
        views["pending"] += n if status == TicketStatus.PENDING else 0
        views["unassigned"] += n if assignee_id is None else 0
        views["mine"] += n if assignee_id == user.id else 0
        if team_id is not None:
            by_team[team_id] = by_team.get(team_id, 0) + n
        if account_id is not None:
            by_account[account_id] = by_account.get(account_id, 0) + n
            platform = platform_of.get(account_id)
            if platform:
                by_platform[platform] = by_platform.get(platform, 0) + n
    views["at_risk"] = grouped.at_risk
    views["needs_reply"] = grouped.needs_reply
    views["promises_due"] = grouped.promises_due
    return Counts(views, by_account, by_platform, by_team)


def counts_for(session: Session, user: WebUser) -> Counts:
    """The (cached) inbox counts, for pages other than the inbox."""
    platform_of: dict[int, str] = {
        account_id: platform
        for account_id, platform in session.execute(
            select(ChannelAccount.id, ChannelAccount.platform).where(
                ChannelAccount.workspace_id.in_(user.workspace_ids)
            )
        )
    }
    return view_counts(session, user, platform_of)


def forget_counts() -> None:
    with _count_lock:
        _count_cache.clear()
        _saved_cache.clear()


def filter_of_saved(user: Viewer, query: dict[str, Any]) -> tuple[str, TicketFilter]:
    """The view and ticket filter a saved filter's query stands for, for this user
    ("mine" is the viewer's own tickets, also in a shared filter)."""
    view = str(query.get("view", "open"))  # stored filters say "open" by leaving it out
    f = view_filter(
        user, view, query.get("channel"), query.get("account"), query.get("team"),
        query.get("tag"), query.get("q"),
    )  # fmt: skip
    return view, f


def saved_counts(session: Session, user: Viewer, saved: list[SavedFilter]) -> dict[int, int]:
    """Tickets matching each saved filter: one query (a ``UNION ALL`` of counts),
    cached like the view counts. A filter the database cannot run (stored before it
    was checked at save, or broken by a later change) is left out, and logged: the
    caller reports it as skipped, every other filter still counts."""
    if not saved:
        return {}
    signature = tuple((s.id, json.dumps(s.query, sort_keys=True)) for s in saved)
    key = (user.workspace_ids, user.id, signature)
    now = time.monotonic()
    with _count_lock:
        hit = _saved_cache.get(key)
    if hit and now - hit[0] < COUNT_TTL_SECONDS:
        return hit[1]
    branches = {s.id: _saved_branch(user, s) for s in saved}
    runnable = [b for b in branches.values() if b is not None]
    try:
        found = _run_counts(session, runnable)
    except _RUN_ERRORS:
        # One of them fails: count each on its own, so only the broken one is skipped.
        found = {}
        for saved_id, branch in branches.items():
            if branch is None:
                continue
            try:
                found.update(_run_counts(session, [branch]))
            except _RUN_ERRORS:
                log.warning("saved filter %s cannot run; skipped", saved_id, exc_info=True)
    with _count_lock:
        _saved_cache[key] = (now, found)
    return found


_RUN_ERRORS = (SQLAlchemyError, ValueError, OverflowError, TypeError)


def _saved_branch(user: Viewer, saved: SavedFilter) -> Any:
    t = Ticket
    try:
        view, f = filter_of_saved(user, saved.query)
        if view == "at_risk":
            f = replace(f, within=sla_views.at_risk_tickets(f.workspace_ids, utcnow()))
        return select(literal(saved.id).label("id"), func.count(t.id).label("n")).where(
            *scope(f), *narrowing(f)
        )
    except _RUN_ERRORS:
        log.warning("saved filter %s cannot be built; skipped", saved.id, exc_info=True)
        return None


def _run_counts(session: Session, branches: list[Select[Any]]) -> dict[int, int]:
    if not branches:
        return {}
    statement = branches[0] if len(branches) == 1 else union_all(*branches)
    # In a savepoint: on PostgreSQL a failed statement would end the whole transaction.
    with session.begin_nested():
        return {int(row[0]): int(row[1]) for row in session.execute(statement)}


class Viewer(Protocol):
    """Whoever the filter is for: a signed-in page user or an API token's user."""

    @property
    def id(self) -> int: ...
    @property
    def workspace_ids(self) -> tuple[int, ...]: ...


def view_filter(
    user: Viewer,
    view: str,
    channel: str | None,
    account: int | None,
    team: int | None = None,
    tag: str | None = None,
    q: str | None = None,
) -> TicketFilter:
    """The inbox view for this user: ``store.repos.tickets``' one definition, which
    ``GET /api/v1/tickets?view=`` applies too."""
    return filter_for_view(
        user.workspace_ids, user.id, view, platforms={channel} if channel else None,
        account_id=account, team_id=team, tag=tag, q=q,
    )  # fmt: skip
