"""Actions on automation rules: validated, audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, audit, require_role
from socialdesk.automation.rules import validate_rule
from socialdesk.store.db import utcnow
from socialdesk.store.models import AutomationRule, Team, User

_RULES_REFUSED = "only admins change automation rules"


def _check_targets(session: Session, workspace_id: int, actions: list[Any]) -> None:
    for action in actions:
        team_id, user_id = action.get("team_id"), action.get("user_id")
        if team_id is not None:
            team = session.get(Team, team_id)
            if team is None or team.workspace_id != workspace_id:
                raise ActionError(f"team {team_id} does not exist in this workspace", 422)
        if user_id is not None:
            user = session.get(User, user_id)
            if user is None or not user.is_active:
                raise ActionError(f"user {user_id} does not exist or is inactive", 422)


def save_rule(
    session: Session,
    actor: User | None,
    workspace_id: int,
    *,
    name: str,
    event: str,
    conditions: list[Any],
    actions: list[Any],
    enabled: bool = True,
    position: int = 0,
    rule: AutomationRule | None = None,
) -> AutomationRule:
    """Create a rule, or replace the definition of ``rule``."""
    require_role(actor, ("admin",), _RULES_REFUSED)
    try:
        event, conditions, actions = validate_rule(event, conditions, actions)
    except ValueError as exc:
        raise ActionError(str(exc), 422) from exc
    if not name.strip():
        raise ActionError("a rule needs a name", 422)
    _check_targets(session, workspace_id, actions)
    now = utcnow()
    if rule is None:
        rule = AutomationRule(workspace_id=workspace_id, created_at=now)
        session.add(rule)
    rule.name, rule.event, rule.conditions, rule.actions = name.strip(), event, conditions, actions
    rule.enabled, rule.position, rule.updated_at = enabled, position, now
    session.flush()
    audit(
        session,
        actor,
        "automation_rule.saved",
        "automation_rule",
        rule.id,
        workspace_id,
        {"name": rule.name, "event": event, "conditions": conditions, "actions": actions},
    )
    return rule


def delete_rule(session: Session, actor: User | None, rule: AutomationRule) -> None:
    require_role(actor, ("admin",), _RULES_REFUSED)
    audit(
        session,
        actor,
        "automation_rule.deleted",
        "automation_rule",
        rule.id,
        rule.workspace_id,
        {"name": rule.name},
    )
    session.delete(rule)


def set_rule_enabled(
    session: Session, actor: User | None, rule: AutomationRule, enabled: bool
) -> AutomationRule:
    """Switch a rule on or off without touching its definition."""
    require_role(actor, ("admin",), _RULES_REFUSED)
    if rule.enabled != enabled:
        rule.enabled = enabled
        rule.updated_at = utcnow()
        audit(
            session,
            actor,
            "automation_rule.enabled" if enabled else "automation_rule.disabled",
            "automation_rule",
            rule.id,
            rule.workspace_id,
            {"name": rule.name},
        )
    return rule
