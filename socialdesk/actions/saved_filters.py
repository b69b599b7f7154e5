"""Saved inbox filters: an agent names the inbox's current filter set (its query
string) and finds it again in the sidebar, with a live count. Private to the owner or
shared with the workspace; only the owner renames or deletes one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, audit
from socialdesk.actions.tickets import require_writer
from socialdesk.domain.enums import Platform
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.db import utcnow
from socialdesk.store.models import SavedFilter, User

# The inbox's query-string filters (web/pages/inbox.py); a saved filter is a subset.
FILTER_VIEWS = ("unassigned", "mine", "open", "pending", "solved", "at_risk")
FILTER_SORTS = ("newest", "oldest", "urgent", "due")
FILTER_KEYS = ("view", "channel", "account", "team", "tag", "sort", "q")
MAX_NAME = 80
MAX_Q = 200
MAX_TAG = 80


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
            if isinstance(value, bool) or not text.isdigit():
                raise ValueError(f"{key} must be an id")
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
    if saved.user_id != actor.id:
        raise ActionError("only the person who saved a filter can change or delete it", 403)


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
    _own(actor, saved)
    audit(
        session, actor, "saved_filter.deleted", "saved_filter", saved.id, saved.workspace_id,
        {"name": saved.name, "query": saved.query},
    )  # fmt: skip
    _announce(session, saved)
    session.delete(saved)
