"""Saved inbox filters: an agent names the inbox's current filter set (its query
string) and finds it again in the sidebar, with a live count. Private to the owner or
shared with the workspace; only the owner renames one, the owner or an admin (a shared
one) deletes it. A filter is run once when saved, so one that cannot run is refused
then instead of breaking the sidebar of everyone it is shared with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, RoleRefused, audit
from socialdesk.actions.tickets import require_writer
from socialdesk.domain.enums import UNSOLVED_STATUSES, Platform, Role, TicketStatus
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.db import utcnow
from socialdesk.store.models import SavedFilter, User
from socialdesk.store.repos.tickets import TicketFilter, list_tickets, ticket_view

# The inbox's query-string filters (web/pages/inbox.py); a saved filter is a subset.
FILTER_VIEWS = (
    "needs_reply",
    "unassigned",
    "mine",
    "open",
    "pending",
    "solved",
    "at_risk",
    "promises_due",
)
FILTER_SORTS = ("newest", "oldest", "urgent", "due", "urgency")
FILTER_KEYS = ("view", "channel", "account", "team", "tag", "sort", "q")
MAX_NAME = 80
MAX_Q = 200
MAX_TAG = 80
# Ids are database integers: a larger number cannot be compared on every backend.
MAX_ID = 2**31 - 1


def clean_filter_query(raw: Mapping[str, Any]) -> dict[str, str | int]:
    """The filter set as stored: known keys only, empty values dropped, values checked
    (``ValueError`` with the reason otherwise). ``view`` defaults to ``open`` and
    ``sort`` to ``newest``, which are left out so equal filters compare equal."""
    unknown = sorted(set(raw) - set(FILTER_KEYS))
    if unknown:
        raise ValueError(f"unknown filter {unknown[0]!r}; use {', '.join(FILTER_KEYS)}")
    out: dict[str, str | int] = {}
    for key in FILTER_KEYS:
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        text = str(value).strip()
        if any(ord(c) < 32 for c in text):
            raise ValueError(f"{key} contains a control character")
        if key == "view":
            if text not in FILTER_VIEWS:
                raise ValueError(f"unknown view {text!r}; use {', '.join(FILTER_VIEWS)}")
            if text != "open":
                out[key] = text
        elif key == "sort":
            if text not in FILTER_SORTS:
                raise ValueError(f"unknown sort {text!r}; use {', '.join(FILTER_SORTS)}")
            if text != "newest":
                out[key] = text
        elif key == "channel":
            if text not in {str(p) for p in Platform}:
                raise ValueError(f"unknown channel {text!r}")
            out[key] = text
        elif key in ("account", "team"):
            if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
                raise ValueError(f"{key} must be an id")
            if not 0 < int(text) <= MAX_ID:
                raise ValueError(f"{key} must be an id from 1 to {MAX_ID}")
            out[key] = int(text)
        elif key == "tag":
            if len(text) > MAX_TAG:
                raise ValueError(f"tag is at most {MAX_TAG} characters")
            out[key] = text.lower()
        else:
            if len(text) > MAX_Q:
                raise ValueError(f"q is at most {MAX_Q} characters")
            out[key] = text
    return out


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ActionError("give the filter a name", 422)
    if len(cleaned) > MAX_NAME:
        raise ActionError(f"a filter name is at most {MAX_NAME} characters", 422)
    return cleaned


def visible_filters(
    session: Session, user_id: int, workspace_ids: Sequence[int]
) -> list[SavedFilter]:
    """The user's own filters and those shared in their workspaces, by name."""
    return list(
        session.scalars(
            select(SavedFilter)
            .where(
                SavedFilter.workspace_id.in_(list(workspace_ids)),
                or_(SavedFilter.user_id == user_id, SavedFilter.shared.is_(True)),
            )
            .order_by(SavedFilter.name, SavedFilter.id)
        )
    )


def ticket_filter(
    query: Mapping[str, Any], user_id: int, workspace_ids: Sequence[int]
) -> TicketFilter:
    """The ticket filter a stored query stands for, for this user ("mine" is the
    viewer's own tickets, also in a shared filter)."""
    view = str(query.get("view", "open"))
    statuses = {str(s) for s in UNSOLVED_STATUSES}
    if view == "pending":
        statuses = {str(TicketStatus.PENDING)}
    elif view == "solved":
        statuses = {str(TicketStatus.SOLVED)}
    tag, q = query.get("tag"), query.get("q")
    return TicketFilter(
        workspace_ids=list(workspace_ids),
        statuses=statuses,
        platforms={str(query["channel"])} if query.get("channel") else None,
        account_id=query.get("account"),
        team_id=query.get("team"),
        assignee_id=user_id if view == "mine" else None,
        unassigned=view == "unassigned",
        tag=str(tag).strip().lower() if tag and str(tag).strip() else None,
        q=str(q).strip() if q and str(q).strip() else None,
        view=ticket_view(view),
    )


def check_runs(session: Session, user_id: int, workspace_id: int, query: Mapping[str, Any]) -> None:
    """Run the filter once (one row, inside a savepoint so a failure leaves the
    transaction usable); ``ActionError`` 422 when the database cannot run it."""
    try:
        with session.begin_nested():
            list_tickets(session, ticket_filter(query, user_id, [workspace_id]), limit=1)
    except (SQLAlchemyError, ValueError, OverflowError) as exc:
        raise ActionError(f"this filter cannot run: {type(exc).__name__}", 422) from exc


def _announce(session: Session, saved: SavedFilter) -> None:
    queue_live_event(
        session,
        LiveEvent("saved_filter.changed", saved.workspace_id, {"saved_filter_id": saved.id}),
    )


def save_filter(
    session: Session,
    actor: User,
    workspace_id: int,
    name: str,
    query: Mapping[str, Any],
    *,
    shared: bool = False,
) -> SavedFilter:
    require_writer(actor)
    try:
        cleaned = clean_filter_query(query)
    except ValueError as exc:
        raise ActionError(str(exc), 422) from exc
    title = _clean_name(name)
    check_runs(session, actor.id, workspace_id, cleaned)
    clash = session.scalar(
        select(SavedFilter.id).where(
            SavedFilter.workspace_id == workspace_id,
            SavedFilter.user_id == actor.id,
            SavedFilter.name == title,
        )
    )
    if clash is not None:
        raise ActionError(f"you already have a filter named {title!r}", 409)
    saved = SavedFilter(
        workspace_id=workspace_id,
        user_id=actor.id,
        name=title,
        query=cleaned,
        shared=shared,
        created_at=utcnow(),
    )
    session.add(saved)
    session.flush()
    audit(
        session, actor, "saved_filter.created", "saved_filter", saved.id, workspace_id,
        {"name": title, "query": cleaned, "shared": shared},
    )  # fmt: skip
    _announce(session, saved)
    return saved


def _own(actor: User, saved: SavedFilter) -> None:
    require_writer(actor)
    if saved.user_id != actor.id:
        raise RoleRefused("only the person who saved a filter can change it")


def rename_filter(
    session: Session, actor: User, saved: SavedFilter, name: str, *, shared: bool | None = None
) -> SavedFilter:
    _own(actor, saved)
    title = _clean_name(name)
    before = {"name": saved.name, "shared": saved.shared}
    saved.name = title
    if shared is not None:
        saved.shared = shared
    audit(
        session, actor, "saved_filter.renamed", "saved_filter", saved.id, saved.workspace_id,
        {"from": before, "to": {"name": saved.name, "shared": saved.shared}},
    )  # fmt: skip
    _announce(session, saved)
    return saved


def delete_filter(session: Session, actor: User, saved: SavedFilter) -> None:
    """The owner deletes their filter; an admin also any shared one (one that broke,
    or that nobody wants, must not outlive a person who left)."""
    if not (saved.shared and actor.role == Role.ADMIN):
        _own(actor, saved)
    audit(
        session, actor, "saved_filter.deleted", "saved_filter", saved.id, saved.workspace_id,
        {"name": saved.name, "query": saved.query},
    )  # fmt: skip
    _announce(session, saved)
    session.delete(saved)
