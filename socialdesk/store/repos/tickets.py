"""Ticket listing with keyset pagination, and the reads a ticket page needs."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal, TypeVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    distinct,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session, selectinload

from socialdesk.domain.enums import UNSOLVED_STATUSES, TicketStatus
from socialdesk.store import search
from socialdesk.store.db import utcnow
from socialdesk.store.models import (
    Contact,
    ContactIdentity,
    FlaggedTicketCount,
    FollowUp,
    Message,
    Ticket,
    TicketTag,
)
from socialdesk.store.models.base import table_of

Sort = Literal["newest", "oldest"]
# Views that are more than a status: what a social team works from.
#   needs_reply: the customer is waiting on us (their message is the last word, or our
#     promise to come back fell due) and the ticket is not solved or pending; listed by
#     how long they have waited.
#   promises_due: an agent's promise ("back to you in an hour") is past due, unkept.
TicketView = Literal["needs_reply", "promises_due"]
WAITING_STATUSES = frozenset(
    str(s) for s in (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.ON_HOLD)
)
STATUS_ALIASES: dict[str, frozenset[str]] = {
    # Everything still in someone's queue.
    "unsolved": frozenset(str(s) for s in UNSOLVED_STATUSES),
    "active": frozenset(str(s) for s in UNSOLVED_STATUSES),
}


class CursorError(ValueError):
    pass


def encode_cursor(last_message_at: datetime, ticket_id: int) -> str:
    raw = json.dumps([last_message_at.isoformat(), ticket_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, ticket_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = datetime.fromisoformat(stamp)
        # bool is an int to Python; an id past BIGINT would overflow the query.
        if moment.tzinfo is None or type(ticket_id) is not int or not 0 < ticket_id < 2**63:
            raise ValueError
        return moment, ticket_id
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise CursorError("cursor is not one this API returned") from exc


def parse_statuses(value: str | None) -> set[str] | None:
    if not value:
        return None
    statuses: set[str] = set()
    valid = {str(s) for s in TicketStatus}
    for part in (p.strip().lower() for p in value.split(",") if p.strip()):
        if part in STATUS_ALIASES:
            statuses |= STATUS_ALIASES[part]
        elif part in valid:
            statuses.add(part)
        else:
            raise ValueError(
                f"unknown status {part!r}; use {', '.join(sorted(valid | set(STATUS_ALIASES)))}"
            )
    return statuses


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """Which tickets a list shows: the one definition the inbox pages, their counts,
    saved filters and ``GET /api/v1/tickets`` all apply (``scope`` + ``narrowing``)."""

    workspace_ids: Sequence[int]
    statuses: set[str] | None = None
    platforms: set[str] | None = None
    account_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    team_id: int | None = None
    priorities: set[str] | None = None
    tag: str | None = None
    contact_id: int | None = None
    q: str | None = None
    # Ticket ids a feature above the store selects (the SLA at-risk view): a subquery.
    within: Any = None
    # A work view (needs reply, promises due) beyond statuses and assignee.
    view: TicketView | None = None
    # The latest customer message's triage (docs/triage.md).
    sentiments: set[str] | None = None
    intents: set[str] | None = None
    topic: str | None = None
    min_urgency: int | None = None


UNSOLVED = frozenset(str(s) for s in UNSOLVED_STATUSES)
# The inbox views and the statuses each lists; "mine" and "unassigned" also narrow by
# assignee, "at_risk" by the SLA clocks (``within``).
VIEW_STATUSES: dict[str, frozenset[str]] = {
    "unassigned": UNSOLVED,
    "mine": UNSOLVED,
    "open": UNSOLVED,
    "pending": frozenset({str(TicketStatus.PENDING)}),
    "solved": frozenset({str(TicketStatus.SOLVED)}),
    "at_risk": UNSOLVED,
    "needs_reply": UNSOLVED,
    "promises_due": UNSOLVED,
}


def filter_for_view(
    workspace_ids: Sequence[int],
    user_id: int,
    view: str,
    *,
    platforms: set[str] | None = None,
    account_id: int | None = None,
    team_id: int | None = None,
    tag: str | None = None,
    q: str | None = None,
    within: Any = None,
) -> TicketFilter:
    """A named view for ``user_id`` ("mine" is always the viewer's own tickets, also
    in a shared saved filter), with the optional narrowing every door offers."""
    if view not in VIEW_STATUSES:
        raise ValueError(f"unknown view {view!r}; use {', '.join(VIEW_STATUSES)}")
    return TicketFilter(
        workspace_ids=list(workspace_ids),
        statuses=set(VIEW_STATUSES[view]),
        platforms=platforms or None,
        account_id=account_id,
        team_id=team_id,
        assignee_id=user_id if view == "mine" else None,
        unassigned=view == "unassigned",
        tag=tag.strip().lower() if tag and tag.strip() else None,
        q=q.strip() if q and q.strip() else None,
        within=within,
        view=ticket_view(view),
    )


def scope(f: TicketFilter, *, unindexed: bool = False) -> list[ColumnElement[bool]]:
    """Workspaces and statuses: the part index-merging queries apply per branch.
    ``unindexed`` (SQLite): the same condition with a unary ``+``, which keeps the planner
    off the list's indexes (all lead with the workspace), so it starts from the search's
    few matches instead of walking every ticket of the workspace in list order."""
    t = Ticket
    if not f.workspace_ids:
        return [false()]
    workspace: Any = literal_column("+tickets.workspace_id") if unindexed else t.workspace_id
    conditions: list[ColumnElement[bool]] = [
        workspace == f.workspace_ids[0]
        if len(f.workspace_ids) == 1
        else workspace.in_(sorted(set(f.workspace_ids)))
    ]
    if f.statuses is not None:
        conditions.append(t.status.in_(sorted(f.statuses)))
    return conditions


def narrowing(
    f: TicketFilter, *, with_view: bool = True, walk_search: bool = False
) -> list[ColumnElement[bool]]:
    """Everything in the filter besides workspaces and statuses (and, unless
    ``with_view`` is off, the work view's condition). ``walk_search``: the search plan
    for many matches (``search.many_matches``), same rows."""
    t = Ticket
    conditions: list[ColumnElement[bool]] = []
    if f.platforms:
        conditions.append(t.platform.in_(sorted(f.platforms)))
    if f.account_id is not None:
        conditions.append(t.channel_account_id == f.account_id)
    if f.unassigned:
        conditions.append(t.assignee_id.is_(None))
    elif f.assignee_id is not None:
        conditions.append(t.assignee_id == f.assignee_id)
    if f.team_id is not None:
        conditions.append(t.team_id == f.team_id)
    if f.priorities:
        conditions.append(t.priority.in_(sorted(f.priorities)))
    if f.contact_id is not None:
        conditions.append(t.contact_id == f.contact_id)
    if f.tag:
        conditions.append(
            exists().where(TicketTag.ticket_id == t.id, TicketTag.tag == f.tag.lower())
        )
    if f.within is not None:
        conditions.append(t.id.in_(f.within))
    if f.sentiments:
        conditions.append(t.sentiment_label.in_(sorted(f.sentiments)))
    if f.intents:
        conditions.append(t.intent.in_(sorted(f.intents)))
    if f.topic:
        conditions.append(t.topic == f.topic)
    if f.min_urgency is not None:
        conditions.append(t.urgency >= f.min_urgency)
    found = search.text_condition(f.q, walk=walk_search)
    if found is not None:
        conditions.append(found)
    in_view = view_condition(f.view) if with_view else None
    if in_view is not None:
        conditions.append(in_view)
    return conditions


_Q = TypeVar("_Q", bound=Select)


def narrow(query: _Q, f: TicketFilter) -> _Q:
    conditions = narrowing(f)
    return query.where(*conditions) if conditions else query


def ticket_view(view: str | None) -> TicketView | None:
    """The work view a page or saved filter names, if it is one (others are statuses)."""
    if view == "needs_reply":
        return "needs_reply"
    if view == "promises_due":
        return "promises_due"
    return None


def due_promises(now: datetime | None = None, workspace_ids: Sequence[int] = ()) -> Any:
    """Ids of tickets with an open promise past due (a subquery over the few open
    follow-ups, ``ix_follow_ups_status_due``)."""
    query = select(FollowUp.ticket_id).where(
        FollowUp.status == "open",
        # Marked by the scan, or due since its last pass.
        or_(FollowUp.overdue_at.is_not(None), FollowUp.due_at <= (now or utcnow())),
    )
    if workspace_ids:
        query = query.where(FollowUp.workspace_id.in_(list(workspace_ids)))
    return query


# flagged_tickets kind: tickets with an open promise the promise scan marked overdue.
PROMISE_OVERDUE = "promise_overdue"


def due_promise_count(session: Session, workspace_ids: Sequence[int], now: datetime) -> int:
    """How many tickets ``due_promises`` holds, without reading every open promise: the
    tickets with an open promise marked overdue are counted by triggers
    (``flagged_tickets``, migration 0046); the unmarked open promises already past due
    (due since the promise scan's last pass) are a short range of
    ``ix_follow_ups_ws_status_overdue``, less the tickets the marked ones count."""
    params = {"workspace_ids": list(workspace_ids), "now": now}
    counted, added = session.execute(_due_promise_count_query(), params).one()
    return int(counted or 0) + int(added or 0)


@cache
def _due_promise_count_query() -> Select[Any]:
    """``due_promise_count``'s statement, built once (building it cost more than running
    it)."""
    p, f = table_of(FollowUp), table_of(FlaggedTicketCount)
    other = p.alias("marked_promise")
    marked = select(func.sum(f.c.ticket_count)).where(
        f.c.kind == PROMISE_OVERDUE,
        f.c.workspace_id.in_(bindparam("workspace_ids", expanding=True)),
    )
    since_scan = select(func.count(distinct(p.c.ticket_id))).where(
        p.c.workspace_id.in_(bindparam("workspace_ids", expanding=True)),
        p.c.status == "open",
        p.c.overdue_at.is_(None),
        p.c.due_at <= bindparam("now", type_=p.c.due_at.type),
        # A count per candidate, not NOT EXISTS (which PostgreSQL may run as a hash anti
        # join over every marked promise): one ix_follow_ups_ticket_status lookup each.
        select(func.count())
        .where(
            other.c.ticket_id == p.c.ticket_id,
            other.c.status == "open",
            other.c.overdue_at.is_not(None),
        )
        .scalar_subquery()
        == 0,
    )
    return select(marked.scalar_subquery(), since_scan.scalar_subquery())


def view_condition(view: TicketView | None, now: datetime | None = None) -> Any:
    """The view's condition on ``tickets`` (None: no view), shared by lists and counts."""
    t = Ticket
    if view == "needs_reply":
        # Whoever needs a reply has a waiting-since (the pipeline and the promise scan
        # set both; migration 0024 filled older rows): the index walks it in order.
        return and_(
            t.needs_reply.is_(True),
            t.awaiting_since.is_not(None),
            t.status.in_(sorted(WAITING_STATUSES)),
        )
    if view == "promises_due":
        return t.id.in_(due_promises(now))
    return None


def list_tickets(
    session: Session,
    f: TicketFilter,
    *,
    sort: Sort = "newest",
    limit: int = 25,
    cursor: str | None = None,
) -> tuple[list[Row[Any]], str | None]:
    t = Ticket
    key: Any = t.awaiting_since if f.view == "needs_reply" else t.last_message_at
    query = select(
        t.id,
        t.workspace_id,
        t.subject,
        t.status,
        t.priority,
        t.platform,
        t.channel_account_id,
        t.assignee_id,
        t.team_id,
        t.contact_id,
        t.needs_reply,
        t.awaiting_since,
        t.message_count,
        t.first_message_at,
        t.last_message_at,
        t.first_response_at,
        t.sentiment,
        t.intent,
        t.sentiment_label,
        t.urgency,
        t.topic,
        t.first_response_due_at,
        t.next_response_due_at,
        t.resolution_due_at,
        t.sla_breached,
        t.created_at,
        Contact.display_name.label("contact_name"),
        key.label("sort_at"),
    ).outerjoin(Contact, Contact.id == t.contact_id)
    # A common word: walk the list in order and probe the matches, rather than sort
    # thousands of matching tickets for one page (docs/benchmarks.md, issue 11).
    # A rare word or a sender: start from the few matches and sort them; left to itself
    # SQLite walks every ticket in list order (at 1,000,000 messages, 500 ms for @handle).
    walk = search.many_matches(session, f.q)
    from_matches = not walk and search.narrows(f.q) and session.get_bind().dialect.name == "sqlite"
    query = query.where(
        *scope(f, unindexed=from_matches), *narrowing(f, with_view=False, walk_search=walk)
    )
    if f.view == "promises_due":
        # The few ids first: as a subquery, SQLite would walk every ticket of the
        # workspace in list order to find them.
        promised = list(session.scalars(due_promises(workspace_ids=f.workspace_ids).distinct()))
        query = query.where(t.id.in_(promised) if promised else false())
    else:
        in_view = view_condition(f.view)
        if in_view is not None:
            query = query.where(in_view)
    if cursor:
        moment, last_id = decode_cursor(cursor)
        if sort == "newest":
            query = query.where(or_(key < moment, and_(key == moment, t.id < last_id)))
        else:
            query = query.where(or_(key > moment, and_(key == moment, t.id > last_id)))
    order = (key.desc(), t.id.desc()) if sort == "newest" else (key, t.id)
    rows: list[Row[Any]] = list(session.execute(query.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].sort_at, rows[-1].id)
    return rows, next_cursor


def urgency_page_ids(session: Session, f: TicketFilter, *, offset: int, limit: int) -> list[int]:
    """Ids of the filter's tickets, most urgent triage first (no urgency last), then
    the newest activity: the inbox's "Urgency" sort, paged by offset."""
    t = Ticket
    query = select(t.id).where(*scope(f), *narrowing(f, with_view=False))
    if f.view == "promises_due":
        query = query.where(t.id.in_(due_promises(workspace_ids=f.workspace_ids)))
    else:
        in_view = view_condition(f.view)
        if in_view is not None:
            query = query.where(in_view)
    order = (t.urgency.is_(None), t.urgency.desc(), t.last_message_at.desc(), t.id.desc())
    return list(session.scalars(query.order_by(*order).offset(offset).limit(limit)))


def tags_for(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {i: [] for i in ticket_ids}
    if ticket_ids:
        for ticket_id, tag in session.execute(
            select(TicketTag.ticket_id, TicketTag.tag)
            .where(TicketTag.ticket_id.in_(ticket_ids))
            .order_by(TicketTag.tag)
        ):
            tags[ticket_id].append(tag)
    return tags


def messages_of(session: Session, ticket_id: int) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(Message.ticket_id == ticket_id)
            .order_by(Message.created_at, Message.id)
            .options(selectinload(Message.attachments))
        )
    )


def identities_of(session: Session, contact_id: int) -> list[ContactIdentity]:
    return list(
        session.scalars(
            select(ContactIdentity)
            .where(ContactIdentity.contact_id == contact_id)
            .order_by(ContactIdentity.id)
        )
    )
