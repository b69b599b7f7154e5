"""The inbox: views with counts, filters by channel, account, team, tag and text,
saved filters with their counts, sorting, pagination, bulk assign, tag and solve."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from threading import Lock
from typing import Annotated, Any, Literal, Protocol, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Row, Select, exists, func, literal, select, union_all
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from socialdesk.actions import saved_filters as saved_actions
from socialdesk.actions import tickets as actions
from socialdesk.actions.recording import ActionError
from socialdesk.domain.enums import (
    PRIORITY_RANK,
    UNSOLVED_STATUSES,
    Platform,
    Priority,
    TicketStatus,
)
from socialdesk.domain.search_query import SearchQueryError, parse_search
from socialdesk.sla import views as sla_views
from socialdesk.store import search
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import (
    ChannelAccount,
    Contact,
    ContactIdentity,
    Membership,
    SavedFilter,
    Team,
    Ticket,
    TicketTag,
    User,
)
from socialdesk.store.repos.tickets import (
    CursorError,
    TicketFilter,
    list_tickets,
    ticket_view,
    view_condition,
)
from socialdesk.web.api.params import DbId, parse_id
from socialdesk.web.pages.common import (
    PageError,
    action_error,
    is_htmx,
    load_ticket,
    render,
    require_writer,
)
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter()
log = logging.getLogger(__name__)
PAGE_SIZE = 25
UNSOLVED = frozenset(str(s) for s in UNSOLVED_STATUSES)
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
SORTS = [
    ("newest", "Newest"),
    ("oldest", "Oldest"),
    ("urgent", "Most urgent"),
    ("due", "Time due"),
]
# Counts are one grouped scan of a covering index (ix_tickets_ws_counts: no table rows
# read) plus the at-risk count; a few seconds of staleness keeps the page fast with
# hundreds of thousands of tickets. Live events refresh the list, not the counts.
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
    t = Ticket
    # Grouped by the index's own columns, in its order: SQLite aggregates while walking
    # the index and PostgreSQL can use an index-only scan. "Unassigned" and "mine" are
    # derived from assignee_id below rather than grouped as expressions, which would
    # need a sort of every row.
    rows = [
        (str(status), account_id, team_id, assignee_id, int(n))
        for status, account_id, team_id, assignee_id, n in session.execute(
            select(t.status, t.channel_account_id, t.team_id, t.assignee_id, func.count())
            .where(
                t.workspace_id.in_(workspace_ids),
                t.status.in_(sorted(UNSOLVED | {str(TicketStatus.SOLVED)})),
            )
            .group_by(t.workspace_id, t.status, t.channel_account_id, t.team_id, t.assignee_id)
        )
    ]
    # Tickets breached or past their warning share (the SLA at-risk view), one more query.
    at_risk = int(
        session.scalar(
            select(func.count(t.id)).where(
                t.id.in_(sla_views.at_risk_tickets(workspace_ids, utcnow())),
                t.status.in_(sorted(UNSOLVED)),
            )
        )
        or 0
    )
    # The two work views, one index range each (ix_tickets_ws_needs_reply; open follow-ups).
    in_scope = t.workspace_id.in_(workspace_ids)
    needs_reply = session.scalar(
        select(func.count(t.id)).where(in_scope, view_condition("needs_reply"))
    )
    promises_due = session.scalar(
        select(func.count(t.id)).where(in_scope, view_condition("promises_due", utcnow()))
    )
    grouped = _Grouped(rows, at_risk, int(needs_reply or 0), int(promises_due or 0))
    with _count_lock:
        _count_cache[workspace_ids] = (now, grouped)
        count_misses += 1
    return grouped


def _counts(session: Session, user: WebUser, platform_of: dict[int, str]) -> Counts:
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
    return _counts(session, user, platform_of)


def forget_counts() -> None:
    with _count_lock:
        _count_cache.clear()
        _saved_cache.clear()


def filter_of_saved(user: Viewer, query: dict[str, Any]) -> tuple[str, TicketFilter]:
    """The view and ticket filter a saved filter's query stands for, for this user
    ("mine" is the viewer's own tickets, also in a shared filter)."""
    view = str(query.get("view", "open"))  # stored filters say "open" by leaving it out
    f = _filter(
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
        query = select(literal(saved.id).label("id"), func.count(t.id).label("n")).where(
            t.workspace_id.in_(sorted(set(f.workspace_ids))),
            t.status.in_(sorted(f.statuses or UNSOLVED)),
        )
        if view == "at_risk":
            query = query.where(t.id.in_(sla_views.at_risk_tickets(f.workspace_ids, utcnow())))
        return _narrow(query, f)
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


def _filter(
    user: Viewer,
    view: str,
    channel: str | None,
    account: int | None,
    team: int | None = None,
    tag: str | None = None,
    q: str | None = None,
) -> TicketFilter:
    statuses: set[str] = set(UNSOLVED)
    if view == "pending":
        statuses = {str(TicketStatus.PENDING)}
    elif view == "solved":
        statuses = {str(TicketStatus.SOLVED)}
    return TicketFilter(
        workspace_ids=list(user.workspace_ids),
        statuses=statuses,
        platforms={channel} if channel else None,
        account_id=account,
        team_id=team,
        assignee_id=user.id if view == "mine" else None,
        unassigned=view == "unassigned",
        tag=tag.strip().lower() if tag and tag.strip() else None,
        q=q.strip() if q and q.strip() else None,
        view=ticket_view(view),
    )


_Q = TypeVar("_Q", bound=Select)


def _narrow(query: _Q, f: TicketFilter) -> _Q:
    """The filters besides workspace and status, as ``list_tickets`` applies them."""
    t = Ticket
    if f.platforms:
        query = query.where(t.platform.in_(sorted(f.platforms)))
    if f.account_id is not None:
        query = query.where(t.channel_account_id == f.account_id)
    if f.team_id is not None:
        query = query.where(t.team_id == f.team_id)
    if f.unassigned:
        query = query.where(t.assignee_id.is_(None))
    elif f.assignee_id is not None:
        query = query.where(t.assignee_id == f.assignee_id)
    if f.tag:
        query = query.where(exists().where(TicketTag.ticket_id == t.id, TicketTag.tag == f.tag))
    found = search.text_condition(f.q)
    if found is not None:
        query = query.where(found)
    in_view = view_condition(f.view)
    if in_view is not None:
        query = query.where(in_view)
    return query


# Every Priority value, most urgent first (a ticket's priority is always one of these).
URGENT_ORDER = tuple(str(p) for p in sorted(Priority, key=lambda p: -PRIORITY_RANK[p]))


def _urgent_page(session: Session, f: TicketFilter, page: int) -> tuple[list[Row[Any]], bool]:
    """Priority first, then who has waited longest (nobody waiting last), then id.

    Sorting every open ticket by a computed rank cannot use an index, so the page is the
    merge of small index ranges of ``ix_tickets_ws_priority_awaiting``: per workspace,
    priority and "waiting or not", the first ``offset + limit`` matching rows in
    waiting order (a ``UNION ALL`` in one query), ordered again in the outer query.
    """
    t = Ticket
    wanted = (page + 1) * PAGE_SIZE + 1
    statuses = sorted(f.statuses or UNSOLVED)

    def branch(workspace_id: int, rank: int, priority: str, waiting: bool) -> Any:
        query = select(
            t.id.label("id"),
            literal(rank).label("rank"),
            literal(0 if waiting else 1).label("idle"),
            t.awaiting_since.label("since"),
        ).where(t.workspace_id == workspace_id, t.status.in_(statuses))
        query = query.where(t.priority == priority)
        if waiting:
            query = query.where(t.awaiting_since.is_not(None)).order_by(t.awaiting_since, t.id)
        else:
            query = query.where(t.awaiting_since.is_(None)).order_by(t.id)
        return select(_narrow(query, f).limit(wanted).subquery())

    branches = [
        branch(ws, rank, priority, waiting)
        for ws in sorted(set(f.workspace_ids))
        for rank, priority in enumerate(URGENT_ORDER)
        for waiting in (True, False)
    ]
    if not branches:
        return [], False
    merged = union_all(*branches).subquery()
    ids = list(
        session.scalars(
            select(merged.c.id)
            .order_by(merged.c.rank, merged.c.idle, merged.c.since, merged.c.id)
            .offset(page * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    )
    more = len(ids) > PAGE_SIZE
    ids = ids[:PAGE_SIZE]
    if not ids:
        return [], False
    return _rows_for(session, ids), more


def _offset_page(
    session: Session, f: TicketFilter, page: int, *, at_risk: bool, sort: str
) -> tuple[list[Row[Any]], bool]:
    """The SLA at-risk view and the "Time due" sort: soonest due first (tickets without
    a running clock last), or newest/oldest activity, paged by offset."""
    # Index ranges merged per (workspace, status): see sla_views.due_page_ids.
    ids = sla_views.due_page_ids(
        session, f.workspace_ids, f.statuses or UNSOLVED, sort=sort, at_risk=at_risk,
        now=utcnow(), offset=page * PAGE_SIZE, limit=PAGE_SIZE + 1,
        narrow=lambda query: _narrow(query, f),
    )  # fmt: skip
    more = len(ids) > PAGE_SIZE
    ids = ids[:PAGE_SIZE]
    if not ids:
        return [], False
    return _rows_for(session, ids), more


def _rows_for(session: Session, ids: list[int]) -> list[Row[Any]]:
    t = Ticket
    order = {ticket_id: i for i, ticket_id in enumerate(ids)}
    rows: list[Row[Any]] = list(
        session.execute(
            select(
                t.id, t.subject, t.status, t.priority, t.platform, t.channel_account_id,
                t.assignee_id, t.contact_id, t.awaiting_since, t.last_message_at, t.sentiment,
                t.sla_breached, t.first_response_due_at, t.next_response_due_at,
                t.resolution_due_at, Contact.display_name.label("contact_name"),
            )
            .outerjoin(Contact, Contact.id == t.contact_id)
            .where(t.id.in_(ids))
        )
    )  # fmt: skip
    rows.sort(key=lambda r: order[r.id])
    return rows


def _reach_of(session: Session, contact_ids: list[int]) -> dict[int, tuple[str, int | None]]:
    """Per contact: a handle and the largest follower count across their identities."""
    found: dict[int, tuple[str, int | None]] = {}
    if not contact_ids:
        return found
    for contact_id, handle, followers in session.execute(
        select(
            ContactIdentity.contact_id, ContactIdentity.handle, ContactIdentity.follower_count
        ).where(ContactIdentity.contact_id.in_(contact_ids))
    ):
        best = found.get(contact_id)
        if best is None or (followers or 0) > (best[1] or 0):
            found[contact_id] = (handle or "", followers)
    return found


def team_members(session: Session, user: WebUser) -> list[tuple[int, str]]:
    """Users who can be assigned tickets in the signed-in user's workspaces."""
    return [
        (uid, name or email)
        for uid, name, email in session.execute(
            select(User.id, User.name, User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.workspace_id.in_(user.workspace_ids),
                User.is_active.is_(True),
                User.role != "viewer",
            )
            .distinct()
            .order_by(User.name, User.email)
        )
    ]


def inbox_context(
    session: Session,
    user: WebUser,
    *,
    view: str,
    channel: str | None,
    account: int | None,
    sort: str,
    cursor: str | None,
    page: int,
    team: int | None = None,
    tag: str | None = None,
    q: str | None = None,
) -> dict[str, Any]:
    accounts = list(
        session.execute(
            select(
                ChannelAccount.id,
                ChannelAccount.platform,
                ChannelAccount.handle,
                ChannelAccount.status,
            )
            .where(ChannelAccount.workspace_id.in_(user.workspace_ids))
            .order_by(ChannelAccount.platform, ChannelAccount.handle)
        )
    )
    teams = list(
        session.execute(
            select(Team.id, Team.name)
            .where(Team.workspace_id.in_(user.workspace_ids))
            .order_by(Team.name)
        )
    )
    counts = _counts(session, user, {a.id: a.platform for a in accounts})
    saved = saved_actions.visible_filters(session, user.id, user.workspace_ids)
    counts.saved = saved_counts(session, user, saved)
    f = _filter(user, view, channel, account, team, tag, q)
    next_cursor: str | None = None
    more = False
    if view == "at_risk" or sort == "due":
        rows, more = _offset_page(session, f, page, at_risk=view == "at_risk", sort=sort)
    elif sort == "urgent":
        rows, more = _urgent_page(session, f, page)
    else:
        try:
            listed, next_cursor = list_tickets(
                session, f, sort="oldest" if sort == "oldest" else "newest",
                limit=PAGE_SIZE, cursor=cursor,
            )  # fmt: skip
        except CursorError as exc:
            raise PageError(400, "That page link is no longer valid.") from exc
        rows = listed
    reach = _reach_of(session, sorted({r.contact_id for r in rows if r.contact_id}))
    now = utcnow()
    running = sla_views.risk_of(session, [r.id for r in rows], now)
    risk = {
        r.id: mark
        for r in rows
        if (mark := sla_views.badge_mark(r.status, running.get(r.id), r.sla_breached))
    }
    due = {
        r.id: sla_views.due_label(
            sla_views.next_due(
                r.first_response_due_at, r.next_response_due_at, r.resolution_due_at
            ),
            now,
        )
        for r in rows
    }
    members = team_members(session, user)
    names = dict(members)
    base = {
        "view": view,
        "channel": channel or "",
        "account": account or "",
        "team": team or "",
        "tag": f.tag or "",
        "q": f.q or "",
        "sort": sort,
    }
    base = {k: v for k, v in base.items() if v not in ("", None)}
    current = saved_actions.clean_filter_query(base)
    next_url = None
    if next_cursor:
        next_url = "/inbox?" + urlencode({**base, "cursor": next_cursor})
    elif more:
        next_url = "/inbox?" + urlencode({**base, "page": page + 1})
    return {
        "rows": rows,
        "reach": reach,
        "risk": risk,
        "due": due,
        "names": names,
        "members": members,
        "accounts": accounts,
        "platforms": sorted({a.platform for a in accounts}),
        "counts": counts,
        "views": VIEWS,
        "sorts": SORTS,
        "view": view,
        "channel": channel or "",
        "account": account,
        "teams": teams,
        "team": team,
        "tag": f.tag or "",
        "q": f.q or "",
        "sort": sort,
        "saved_filters": saved,
        "saved_current": any(s.query == current for s in saved),
        "filter_fields": current,
        "paged": bool(cursor) or page > 0,
        "next_url": next_url,
        "first_url": "/inbox?" + urlencode(base),
        "self_url": "/inbox?" + urlencode({**base, **({"cursor": cursor} if cursor else {})}),
        "query": urlencode(base),
    }


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/inbox", status_code=303)


@router.get("/inbox", response_class=HTMLResponse, include_in_schema=False)
def inbox(
    request: Request,
    user: PageUser,
    view: View = DEFAULT_VIEW,
    channel: Platform | None = None,
    account: DbId | None = None,
    team: DbId | None = None,
    tag: Annotated[str | None, Query(max_length=80)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Literal["newest", "oldest", "urgent", "due"] | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    if q:
        try:
            parse_search(q)
        except SearchQueryError as exc:
            raise PageError(422, str(exc)) from exc
    database: Database = request.app.state.db
    with database.session() as session:
        context = inbox_context(
            session,
            user,
            view=view,
            channel=str(channel) if channel else None,
            account=account,
            # Who has waited longest comes first in "Needs reply"; elsewhere, the newest.
            sort=sort or ("oldest" if view == "needs_reply" else "newest"),
            cursor=cursor,
            page=page,
            team=team,
            tag=tag,
            q=q,
        )
    template = "inbox_list.html" if is_htmx(request) else "inbox.html"
    # Carried to the other views only when chosen: each view has its own default.
    context["sort_param"] = sort or ""
    return render(request, template, user, **context)


@router.post("/inbox/bulk", include_in_schema=False)
def bulk(
    request: Request,
    user: FormUser,
    action: Annotated[Literal["assign_me", "assign", "solve", "tag"], Form()],
    ticket_id: Annotated[list[DbId] | None, Form()] = None,
    assignee_id: Annotated[str, Form()] = "",
    tag: Annotated[str, Form(max_length=200)] = "",
    back: Annotated[str, Form()] = "/inbox",
) -> Response:
    require_writer(user)
    database: Database = request.app.state.db
    new_tags = [t for t in tag.split(",") if t.strip()]
    if action == "tag" and not new_tags:
        raise PageError(422, "Type a tag to add to the selected tickets.")
    if ticket_id:
        with database.write() as session:
            actor = session.get(User, user.id)
            assert actor is not None
            for tid in ticket_id[:100]:
                ticket = load_ticket(session, user, tid)
                try:
                    if action == "solve":
                        actions.set_status(session, ticket, actor, TicketStatus.SOLVED)
                    elif action == "tag":
                        current = actions.current_tags(session, ticket.id)
                        actions.set_tags(session, ticket, actor, [*current, *new_tags])
                    elif action == "assign_me":
                        actions.assign(session, ticket, actor, actor.id)
                    else:
                        chosen = parse_id(assignee_id)
                        actions.assign(session, ticket, actor, chosen)
                except ActionError as exc:
                    raise action_error(exc) from exc
        forget_counts()
    target = back if back.startswith("/inbox") else "/inbox"
    return RedirectResponse(target, status_code=303)
