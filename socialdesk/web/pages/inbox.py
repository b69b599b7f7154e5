"""The inbox: the list of a view (``inbox_views.py`` says which tickets and counts them),
filters by channel, account, team, tag and text, saved filters, sorting, pagination,
bulk assign, tag and solve."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Row, literal, select, union_all
from sqlalchemy.orm import Session

from socialdesk.actions import saved_filters as saved_actions
from socialdesk.actions import tickets as actions
from socialdesk.actions.recording import ActionError
from socialdesk.domain.enums import (
    LOGGED_CHANNEL_LABELS,
    PRIORITY_RANK,
    Platform,
    Priority,
    TicketStatus,
)
from socialdesk.domain.search_query import SearchQueryError, parse_search
from socialdesk.sla import views as sla_views
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import (
    ChannelAccount,
    Contact,
    ContactIdentity,
    Membership,
    Team,
    Ticket,
    User,
)
from socialdesk.store.repos.tickets import (
    UNSOLVED,
    CursorError,
    TicketFilter,
    list_tickets,
    narrow,
    urgency_page_ids,
)
from socialdesk.triage import DEFAULT_TOPICS, INTENTS
from socialdesk.web.api.params import DbId, parse_id
from socialdesk.web.pages.common import (
    PageError,
    is_htmx,
    load_ticket,
    render,
    require_writer,
)
from socialdesk.web.pages.inbox_views import (
    DEFAULT_VIEW,
    VIEWS,
    View,
    counts_for,
    forget_counts,
    saved_counts,
    view_counts,
    view_filter,
)
from socialdesk.web.sessions import FormUser, PageUser, WebUser

# Re-exported: other pages and the benchmarks use them from here.
__all__ = ["VIEWS", "counts_for", "forget_counts", "router", "saved_counts", "team_members"]
router = APIRouter()
SORTS = [
    ("newest", "Newest"),
    ("oldest", "Oldest"),
    ("urgent", "Most urgent"),
    ("due", "Time due"),
    ("urgency", "Urgency"),
]
log = logging.getLogger(__name__)
PAGE_SIZE = 25
# Every Priority value, most urgent first (a ticket's priority is always one of these).
URGENT_ORDER = tuple(str(p) for p in sorted(Priority, key=lambda p: -PRIORITY_RANK[p]))


SENTIMENT_LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True, slots=True)
class TriageNarrowing:
    """The inbox's triage filters, applied to the same ``TicketFilter`` as
    ``GET /api/v1/tickets``'s ``sentiment``, ``intent``, ``topic`` and ``min_urgency``."""

    sentiment: str | None = None
    intent: str | None = None
    topic: str | None = None
    min_urgency: int | None = None

    def applied(self, f: TicketFilter) -> TicketFilter:
        return replace(
            f,
            sentiments={self.sentiment} if self.sentiment else None,
            intents={self.intent} if self.intent else None,
            topic=self.topic.strip() if self.topic and self.topic.strip() else None,
            min_urgency=self.min_urgency,
        )

    def params(self) -> dict[str, str | int]:
        values = {
            "sentiment": self.sentiment,
            "intent": self.intent,
            "topic": self.topic,
            "min_urgency": self.min_urgency,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


def _triage_narrowing(
    sentiment: str | None, intent: str | None, topic: str | None, min_urgency: str | None
) -> TriageNarrowing:
    if sentiment and sentiment not in SENTIMENT_LABELS:
        raise PageError(
            422, f"Unknown sentiment {sentiment!r}; choose negative, neutral or positive."
        )
    if intent and intent not in INTENTS:
        raise PageError(422, f"Unknown intent {intent!r}; choose one of {', '.join(INTENTS)}.")
    urgency = None
    if min_urgency:
        if not min_urgency.isdigit() or int(min_urgency) > 100:
            raise PageError(422, "Urgency is a whole number from 0 to 100.")
        urgency = int(min_urgency)
    return TriageNarrowing(sentiment or None, intent or None, topic or None, urgency)


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
        return select(narrow(query, f).limit(wanted).subquery())

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
        narrow=lambda query: narrow(query, f),
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
                t.sentiment_label, t.intent, t.urgency, t.topic,
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
    triage: TriageNarrowing | None = None,
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
    counts = view_counts(session, user, {a.id: a.platform for a in accounts})
    saved = saved_actions.visible_filters(session, user.id, user.workspace_ids)
    counts.saved = saved_counts(session, user, saved)
    triage = triage or TriageNarrowing()
    f = triage.applied(view_filter(user, view, channel, account, team, tag, q))
    next_cursor: str | None = None
    more = False
    if sort == "urgency":
        ids = urgency_page_ids(session, f, offset=page * PAGE_SIZE, limit=PAGE_SIZE + 1)
        more = len(ids) > PAGE_SIZE
        rows = _rows_for(session, ids[:PAGE_SIZE]) if ids else []
    elif view == "at_risk" or sort == "due":
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
    # The triage narrowing rides on every link of the list (saved filters keep the rest).
    base = {**base, **triage.params()}
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
        "logged_channels": list(LOGGED_CHANNEL_LABELS.items()),
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
        "triage": triage,
        "sentiments": SENTIMENT_LABELS,
        "intents": INTENTS,
        "topics": list(DEFAULT_TOPICS),
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
    sort: Literal["newest", "oldest", "urgent", "due", "urgency"] | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=0, le=10_000)] = 0,
    # Strings: the filter form sends an empty value for "any".
    sentiment: Annotated[str | None, Query(max_length=20)] = None,
    intent: Annotated[str | None, Query(max_length=20)] = None,
    topic: Annotated[str | None, Query(max_length=80)] = None,
    min_urgency: Annotated[str | None, Query(max_length=3)] = None,
) -> Response:
    triage = _triage_narrowing(sentiment, intent, topic, min_urgency)
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
            triage=triage,
        )
    template = "inbox_list.html" if is_htmx(request) else "inbox.html"
    context["bulk_notice"] = bulk_notice(dict(request.query_params))
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
    chosen_ids = list(dict.fromkeys(ticket_id or []))
    done: list[int] = []
    skipped: list[int] = []
    if chosen_ids:
        with database.write() as session:
            actor = session.get(User, user.id)
            assert actor is not None
            for tid in chosen_ids[:BULK_LIMIT]:
                # Each ticket in its own savepoint: one refused change (a ticket that
                # moved on, a right the user lacks) skips that ticket, not the others.
                try:
                    with session.begin_nested():
                        _bulk_one(session, user, actor, tid, action, assignee_id, new_tags)
                except (ActionError, PageError):
                    skipped.append(tid)
                else:
                    done.append(tid)
        forget_counts()
    target = back if back.startswith("/inbox") else "/inbox"
    feedback = {
        "bulk": action,
        "done": str(len(done)),
        "skipped": ",".join(map(str, skipped)),
        "over": str(max(0, len(chosen_ids) - BULK_LIMIT)),
    }
    return RedirectResponse(_with_params(target, feedback), status_code=303)


# One bulk action changes at most this many tickets (one page of the list, with room).
BULK_LIMIT = 100
_FEEDBACK_PARAMS = ("bulk", "done", "skipped", "over")


_BULK_DONE = {
    "solve": "solved",
    "tag": "tagged",
    "assign_me": "assigned to you",
    "assign": "assigned",
}


def bulk_notice(params: dict[str, str]) -> str:
    """What the last bulk action did, in words, from the parameters it redirected with."""
    action = params.get("bulk")
    if action not in _BULK_DONE:
        return ""
    done = int(params["done"]) if params.get("done", "").isdigit() else 0
    skipped = [f"#{t}" for t in params.get("skipped", "").split(",") if t.isdigit()]
    over = int(params["over"]) if params.get("over", "").isdigit() else 0
    if not done and not skipped:
        return "Select one or more tickets first, then choose the action."
    parts = [f"{done} ticket{'s' if done != 1 else ''} {_BULK_DONE[action]}."]
    if skipped:
        parts.append(
            f"Not changed: {', '.join(skipped[:10])}{' …' if len(skipped) > 10 else ''}"
            " (open a ticket to see why)."
        )
    if over:
        parts.append(f"{over} more were not changed: one action takes {BULK_LIMIT} at most.")
    return " ".join(parts)


def _bulk_one(
    session: Session,
    user: WebUser,
    actor: User,
    ticket_id: int,
    action: str,
    assignee_id: str,
    new_tags: list[str],
) -> None:
    ticket = load_ticket(session, user, ticket_id)
    if action == "solve":
        actions.set_status(session, ticket, actor, TicketStatus.SOLVED)
    elif action == "tag":
        current = actions.current_tags(session, ticket.id)
        actions.set_tags(session, ticket, actor, [*current, *new_tags])
    elif action == "assign_me":
        actions.assign(session, ticket, actor, actor.id)
    else:
        actions.assign(session, ticket, actor, parse_id(assignee_id))


def _with_params(url: str, params: dict[str, str]) -> str:
    """The list the agent came from, with the outcome of the bulk action (replacing any
    earlier outcome) so the page can say what happened."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in _FEEDBACK_PARAMS]
    query = urlencode([*kept, *((k, v) for k, v in params.items() if v and v != "0")])
    return urlunsplit(parts._replace(query=query))
