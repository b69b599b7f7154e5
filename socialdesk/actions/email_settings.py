"""The workspace's e-mail display settings: whether a customer's signature is shown
folded (a "Signature" disclosure under the message, the default) or kept in the text."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, audit, require_role
from socialdesk.store.models import User, Workspace

SIGNATURE_CHOICES = ("folded", "kept")
EMAIL_DEFAULTS: dict[str, Any] = {"signatures": "folded"}
_REFUSED = "only admins and leads change the e-mail settings"


def email_settings(workspace: Workspace | None) -> dict[str, Any]:
    stored = ((workspace.settings or {}) if workspace is not None else {}).get("email", {})
    return {**EMAIL_DEFAULTS, **{k: v for k, v in stored.items() if k in EMAIL_DEFAULTS}}


def update_email_settings(
    session: Session, actor: User | None, workspace: Workspace, values: dict[str, Any]
) -> dict[str, Any]:
    require_role(actor, ("admin", "lead"), _REFUSED)
    unknown = set(values) - set(EMAIL_DEFAULTS)
    if unknown:
        raise ActionError(f"unknown setting {sorted(unknown)[0]!r}", 422)
    signatures = values.get("signatures", email_settings(workspace)["signatures"])
    if signatures not in SIGNATURE_CHOICES:
        raise ActionError(f"signatures must be one of {', '.join(SIGNATURE_CHOICES)}", 422)
    merged = {**email_settings(workspace), "signatures": signatures}
    workspace.settings = {**(workspace.settings or {}), "email": merged}
    audit(session, actor, "workspace.email", "workspace", workspace.id, workspace.id, merged)
    return merged
