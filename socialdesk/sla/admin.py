"""Actions on SLA policies and workspace service-level settings (validated, audited)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, audit, require_role
from socialdesk.domain.enums import Platform
from socialdesk.sla.policies import calendar_from_config, validate_targets
from socialdesk.store.db import utcnow
from socialdesk.store.models import SlaPolicy, User, Workspace

POLICY_FIELDS = (
    "name",
    "position",
    "enabled",
    "channels",
    "targets",
    "calendar",
    "pause_on_hold",
    "warn_share",
)
# Workspace.settings["service_levels"] keys and their defaults.
WORKSPACE_DEFAULTS: dict[str, Any] = {"social_cuts_line": True, "ask_after_solve": False}
MANAGERS = ("admin", "lead")
_POLICIES_REFUSED = "only admins and leads change SLA policies"


def _check(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    try:
        if "targets" in out:
            out["targets"] = validate_targets(out["targets"])
        if "calendar" in out:
            calendar_from_config(out["calendar"])
    except ValueError as exc:
        raise ActionError(str(exc), 422) from exc
    if "channels" in out:
        known = {str(p) for p in Platform}
        channels = sorted(set(out["channels"] or []))
        unknown = [c for c in channels if c not in known]
        if unknown:
            raise ActionError(f"channels: unknown channel {unknown[0]!r}", 422)
        out["channels"] = channels
    if "warn_share" in out and not 0 < float(out["warn_share"]) <= 1:
        raise ActionError("warn_share is a share of the target in (0, 1], e.g. 0.75", 422)
    if "name" in out:
        out["name"] = str(out["name"]).strip()
        if not out["name"]:
            raise ActionError("a policy needs a name", 422)
    return out


def create_policy(
    session: Session, actor: User | None, workspace_id: int, **values: Any
) -> SlaPolicy:
    require_role(actor, MANAGERS, _POLICIES_REFUSED)
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ActionError(f"unknown policy field {sorted(unknown)[0]!r}", 422)
    if "targets" not in values:
        raise ActionError("a policy needs targets", 422)
    clean = _check(values)
    if session.scalar(
        select(SlaPolicy.id).where(
            SlaPolicy.workspace_id == workspace_id, SlaPolicy.name == clean.get("name", "")
        )
    ):
        raise ActionError(f"a policy named {clean.get('name')!r} already exists", 409)
    now = utcnow()
    policy = SlaPolicy(workspace_id=workspace_id, created_at=now, updated_at=now, **clean)
    session.add(policy)
    session.flush()
    audit(session, actor, "sla_policy.created", "sla_policy", policy.id, workspace_id, clean)
    return policy


def update_policy(
    session: Session, actor: User | None, policy: SlaPolicy, **values: Any
) -> SlaPolicy:
    require_role(actor, MANAGERS, _POLICIES_REFUSED)
    clean = _check(values)
    if "name" in clean and clean["name"] != policy.name:
        clash = session.scalar(
            select(SlaPolicy.id).where(
                SlaPolicy.workspace_id == policy.workspace_id, SlaPolicy.name == clean["name"]
            )
        )
        if clash:
            raise ActionError(f"a policy named {clean['name']!r} already exists", 409)
    for name, value in clean.items():
        setattr(policy, name, value)
    policy.updated_at = utcnow()
    audit(session, actor, "sla_policy.updated", "sla_policy", policy.id, policy.workspace_id, clean)
    return policy


def delete_policy(session: Session, actor: User | None, policy: SlaPolicy) -> None:
    require_role(actor, MANAGERS, _POLICIES_REFUSED)
    audit(
        session,
        actor,
        "sla_policy.deleted",
        "sla_policy",
        policy.id,
        policy.workspace_id,
        {"name": policy.name},
    )
    session.delete(policy)


def workspace_settings(workspace: Workspace) -> dict[str, Any]:
    stored = (workspace.settings or {}).get("service_levels", {})
    return {**WORKSPACE_DEFAULTS, **{k: v for k, v in stored.items() if k in WORKSPACE_DEFAULTS}}


def update_workspace_settings(
    session: Session, actor: User | None, workspace: Workspace, values: dict[str, Any]
) -> dict[str, Any]:
    unknown = set(values) - set(WORKSPACE_DEFAULTS)
    if unknown:
        raise ActionError(f"unknown setting {sorted(unknown)[0]!r}", 422)
    merged = {**workspace_settings(workspace), **{k: bool(v) for k, v in values.items()}}
    workspace.settings = {**(workspace.settings or {}), "service_levels": merged}
    audit(
        session, actor, "workspace.service_levels", "workspace", workspace.id, workspace.id, merged
    )
    return merged
