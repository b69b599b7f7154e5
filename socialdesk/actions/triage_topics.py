"""Setting a workspace's topic list (``triage/topics.py``): the one door the API and
Settings → Topics both pass. New messages are labelled with it from the next batch on;
messages already labelled keep their topic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, audit, require_role
from socialdesk.store.models import User, Workspace
from socialdesk.triage.topics import SETTINGS_KEY, TopicError, as_items, topics_of, validate_topics

_REFUSED = "only admins and leads change the topic list"


def workspace_topics(workspace: Workspace) -> list[dict[str, Any]]:
    return as_items(topics_of(workspace.settings))


def uses_default_topics(workspace: Workspace) -> bool:
    return not (workspace.settings or {}).get(SETTINGS_KEY)


def set_topics(
    session: Session,
    actor: User | None,
    workspace: Workspace,
    items: Sequence[Mapping[str, Any]] | None,
) -> list[dict[str, Any]]:
    """Replace the workspace's topics; ``None`` or an empty list goes back to the
    defaults. Returns the list now in force."""
    require_role(actor, ("admin", "lead"), _REFUSED)
    try:
        topics = validate_topics(items or [])
    except TopicError as exc:
        raise ActionError(str(exc), 422) from None
    settings = {k: v for k, v in (workspace.settings or {}).items() if k != SETTINGS_KEY}
    if topics:
        settings[SETTINGS_KEY] = {name: list(words) for name, words in topics.items()}
    workspace.settings = settings
    audit(
        session, actor, "workspace.topics", "workspace", workspace.id, workspace.id,
        {"topics": sorted(topics) or "defaults"},
    )  # fmt: skip
    return workspace_topics(workspace)
