"""What the settings sections share: role checks, the left nav, the signed-in actor."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.store.models import Membership, User
from socialdesk.web.pages.common import PageError, render
from socialdesk.web.sessions import WebUser

ADMIN = ("admin",)
ADMIN_LEAD = ("admin", "lead")
# (key, label, path, roles that see it) in nav order.
SECTIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("general", "General", "/settings", ADMIN),
    ("channels", "Channels", "/settings/channels", ADMIN_LEAD),
    ("canned", "Canned responses", "/settings/canned", ADMIN_LEAD),
    ("kb", "Knowledge base", "/settings/kb", ADMIN_LEAD),
    ("faq", "FAQ finder", "/settings/faq", ADMIN_LEAD),
    ("users", "Users", "/settings/users", ADMIN),
    ("teams", "Teams", "/settings/teams", ADMIN_LEAD),
    ("rules", "Automation rules", "/settings/rules", ADMIN),
    ("sla", "SLA policies", "/settings/sla", ADMIN_LEAD),
    ("listening", "Listening", "/settings/listening", ADMIN_LEAD),
    ("topics", "Topics", "/settings/topics", ADMIN_LEAD),
    ("audit", "Audit log", "/settings/audit", ADMIN),
    ("deliveries", "Failed deliveries", "/settings/deliveries", ADMIN),
)


def require(user: WebUser, roles: tuple[str, ...]) -> None:
    if user.role not in roles:
        who = "admins" if roles == ADMIN else "admins and leads"
        raise PageError(403, f"This part of the settings is for {who}.")


def page(
    request: Request,
    user: WebUser,
    template: str,
    section: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    nav = [(key, label, path) for key, label, path, roles in SECTIONS if user.role in roles]
    return render(
        request,
        template,
        user,
        status_code=status_code,
        nav="settings",
        sections=nav,
        section=section,
        **context,
    )


def actor(session: Session, user: WebUser) -> User:
    found = session.get(User, user.id)
    if found is None:
        raise PageError(403, "Your account no longer exists.")
    return found


def workspace_users(session: Session, user: WebUser) -> list[User]:
    """Everyone who works in one of the signed-in user's workspaces."""
    members = select(Membership.user_id).where(Membership.workspace_id.in_(user.workspace_ids))
    return list(session.scalars(select(User).where(User.id.in_(members)).order_by(User.email)))


def owned(session: Session, user: WebUser, model: Any, object_id: int, what: str) -> Any:
    row = session.get(model, object_id)
    if row is None or row.workspace_id not in user.workspace_ids:
        raise PageError(404, f"No such {what}.")
    return row


def member(session: Session, user: WebUser, user_id: int) -> User:
    """A user of one of the signed-in user's workspaces (404 otherwise)."""
    shared = session.scalar(
        select(Membership.user_id).where(
            Membership.user_id == user_id, Membership.workspace_id.in_(user.workspace_ids)
        )
    )
    found = session.get(User, user_id) if shared is not None else None
    if found is None:
        raise PageError(404, "No such user.")
    return found
