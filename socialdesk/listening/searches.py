"""Saved searches: the actions that create, change and delete them. Leads, admins and
marketing manage them (what the brand listens for is a workspace setting); each write
is audited and announced live. Terms are checked and compiled for every network the
search runs on before it is stored, so a search that cannot run is refused then."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, audit, require_role
from socialdesk.domain.enums import Role
from socialdesk.listening.queries import (
    LISTENING_NETWORKS,
    TERM_FIELDS,
    SearchTerms,
    clean_terms,
    compile_for,
)
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.models import ChannelAccount, ListeningSearch, User

MANAGER_ROLES = (Role.ADMIN, Role.LEAD, Role.MARKETING)
MAX_NAME = 80
MIN_INTERVAL, MAX_INTERVAL = 60, 86_400
FIELDS = ("name", *TERM_FIELDS, "account_ids", "enabled", "interval_seconds")


def require_manager(actor: User) -> None:
    require_role(actor, MANAGER_ROLES, "only leads, admins and marketing manage saved searches")


def terms_of(search: ListeningSearch) -> SearchTerms:
    return SearchTerms(**{name: tuple(getattr(search, name) or ()) for name in TERM_FIELDS})


def search_json(search: ListeningSearch) -> dict[str, Any]:
    return {
        "id": search.id,
        "name": search.name,
        **{name: list(getattr(search, name) or []) for name in TERM_FIELDS},
        "account_ids": list(search.account_ids or []),
        "enabled": search.enabled,
        "interval_seconds": search.interval_seconds,
        "last_run_at": search.last_run_at.isoformat() if search.last_run_at else None,
        "last_error": search.last_error,
        "rate_limited_until": dict(search.rate_limited_until or {}),
        "created_at": search.created_at.isoformat(),
    }


def _clean_name(value: Any) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise ActionError("give the search a name", 422)
    if len(name) > MAX_NAME:
        raise ActionError(f"a search name is at most {MAX_NAME} characters", 422)
    if any(ord(c) < 32 for c in name):
        raise ActionError("a search name may not contain control characters", 422)
    return name


def _clean_accounts(session: Session, workspace_id: int, value: Any) -> list[int]:
    if isinstance(value, str):
        value = [part for part in value.replace(",", " ").split()]
    if not isinstance(value, list | tuple) or not value:
        raise ActionError("choose at least one X, Mastodon or Bluesky account to search from", 422)
    ids: list[int] = []
    for item in value:
        text = str(item).strip()
        if isinstance(item, bool) or not (text.isascii() and text.isdigit()):
            raise ActionError("account_ids: a list of account ids", 422)
        ids.append(int(text))
    ids = sorted(set(ids))
    accounts = {
        a.id: a
        for a in session.scalars(
            select(ChannelAccount).where(
                ChannelAccount.id.in_(ids), ChannelAccount.workspace_id == workspace_id
            )
        )
    }
    for account_id in ids:
        account = accounts.get(account_id)
        if account is None:
            raise ActionError(f"account {account_id} is not in this workspace", 422)
        if account.platform not in {str(p) for p in LISTENING_NETWORKS}:
            raise ActionError(
                f"{account.platform} has no search to listen through "
                "(use an X, Mastodon or Bluesky account)",
                422,
            )
    return ids


def _clean_interval(value: Any) -> int:
    try:
        seconds = int(str(value))
    except ValueError:
        raise ActionError("interval_seconds: a whole number of seconds", 422) from None
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise ActionError(f"interval_seconds: from {MIN_INTERVAL} to {MAX_INTERVAL}", 422)
    return seconds


def _checked(
    session: Session, workspace_id: int, changes: Mapping[str, Any], current: ListeningSearch | None
) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise ActionError(f"unknown field {unknown[0]!r}; use {', '.join(FIELDS)}", 422)
    values: dict[str, Any] = {}
    if "name" in changes or current is None:
        values["name"] = _clean_name(changes.get("name"))
    raw_terms = {
        name: changes[name] if name in changes else (getattr(current, name) if current else None)
        for name in TERM_FIELDS
    }
    try:
        terms = clean_terms(raw_terms)
    except ValueError as exc:
        raise ActionError(str(exc), 422) from exc
    values.update({name: list(getattr(terms, name)) for name in TERM_FIELDS})
    if "account_ids" in changes or current is None:
        values["account_ids"] = _clean_accounts(session, workspace_id, changes.get("account_ids"))
    if "enabled" in changes:
        if not isinstance(changes["enabled"], bool):
            raise ActionError("enabled: true or false", 422)
        values["enabled"] = changes["enabled"]
    if "interval_seconds" in changes:
        values["interval_seconds"] = _clean_interval(changes["interval_seconds"])
    for platform in {
        a.platform
        for a in session.scalars(
            select(ChannelAccount).where(
                ChannelAccount.id.in_(values.get("account_ids") or current.account_ids)  # type: ignore[union-attr]
            )
        )
    }:
        try:
            compile_for(platform, terms)
        except ValueError as exc:
            raise ActionError(str(exc), 422) from exc
    name = values.get("name")
    if name is not None and (current is None or name != current.name):
        clash = session.scalar(
            select(ListeningSearch.id).where(
                ListeningSearch.workspace_id == workspace_id, ListeningSearch.name == name
            )
        )
        if clash is not None:
            raise ActionError(f"a saved search named {name!r} exists already", 409)
    return values


def _announce(session: Session, search: ListeningSearch) -> None:
    queue_live_event(
        session,
        LiveEvent("listening.search_changed", search.workspace_id, {"search_id": search.id}),
    )


def create_search(
    session: Session, actor: User, workspace_id: int, spec: Mapping[str, Any]
) -> ListeningSearch:
    require_manager(actor)
    values = _checked(session, workspace_id, spec, None)
    search = ListeningSearch(workspace_id=workspace_id, cursors={}, rate_limited_until={}, **values)
    session.add(search)
    session.flush()
    audit(session, actor, "listening.search_created", "listening_search", search.id,
          workspace_id, search_json(search))  # fmt: skip
    _announce(session, search)
    return search


def update_search(
    session: Session, actor: User, search: ListeningSearch, changes: Mapping[str, Any]
) -> ListeningSearch:
    require_manager(actor)
    values = _checked(session, search.workspace_id, changes, search)
    before = search_json(search)
    terms_changed = any(values.get(n) != getattr(search, n) for n in TERM_FIELDS)
    for key, value in values.items():
        setattr(search, key, value)
    if terms_changed:
        search.cursors = {}  # a changed query starts afresh (new results are not "older")
    session.flush()
    audit(session, actor, "listening.search_updated", "listening_search", search.id,
          search.workspace_id, {"from": before, "to": search_json(search)})  # fmt: skip
    _announce(session, search)
    return search


def delete_search(session: Session, actor: User, search: ListeningSearch) -> None:
    """The search goes; the mentions it found stay (their ``search_id`` is cleared)."""
    require_manager(actor)
    audit(session, actor, "listening.search_deleted", "listening_search", search.id,
          search.workspace_id, search_json(search))  # fmt: skip
    _announce(session, search)
    session.delete(search)
