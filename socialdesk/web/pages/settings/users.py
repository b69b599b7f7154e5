"""Settings → Users (admins): create, role, deactivate/reactivate, their open tickets,
posting rights per channel account."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from socialdesk.actions import admin as admin_actions
from socialdesk.actions import inbox as inbox_actions
from socialdesk.actions.recording import ActionError
from socialdesk.domain.enums import Role
from socialdesk.store.db import Database
from socialdesk.store.models import (
    ChannelAccount,
    PostingRight,
    Team,
    TeamMember,
    Ticket,
    WebSession,
    Workspace,
)
from socialdesk.web.api.params import IdPath
from socialdesk.web.pages.common import PageError, action_error
from socialdesk.web.pages.settings.base import ADMIN, actor, member, page, require, workspace_users
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)
ROLES = tuple(str(r) for r in Role)


def _context(request: Request, user: WebUser) -> dict[str, Any]:
    database: Database = request.app.state.db
    ws = user.workspace_ids
    with database.session() as s:
        users = workspace_users(s, user)
        ids = [u.id for u in users]
        accounts = list(
            s.scalars(
                select(ChannelAccount)
                .where(ChannelAccount.workspace_id.in_(ws))
                .order_by(ChannelAccount.platform, ChannelAccount.handle)
            )
        )
        rights = {
            (r.user_id, r.channel_account_id): r.can_post
            for r in s.scalars(select(PostingRight).where(PostingRight.user_id.in_(ids)))
        }
        teams: dict[int, list[str]] = {}
        for user_id, name in s.execute(
            select(TeamMember.user_id, Team.name)
            .join(Team, Team.id == TeamMember.team_id)
            .where(Team.workspace_id.in_(ws), TeamMember.user_id.in_(ids))
            .order_by(Team.name)
        ):
            teams.setdefault(user_id, []).append(name)
        # Sessions are the only sign-in record; a signed-out user's last one is gone.
        last_sign_in = dict(
            s.execute(
                select(WebSession.user_id, func.max(WebSession.created_at))
                .where(WebSession.user_id.in_(ids))
                .group_by(WebSession.user_id)
            ).all()
        )
        open_tickets = dict(
            s.execute(
                select(Ticket.assignee_id, func.count())
                .where(
                    Ticket.assignee_id.in_(ids),
                    Ticket.status.in_(admin_actions.OPEN_STATUSES),
                    Ticket.workspace_id.in_(ws),
                )
                .group_by(Ticket.assignee_id)
            ).all()
        )
    return {
        "users": users,
        "accounts": accounts,
        "rights": rights,
        "teams": teams,
        "last_sign_in": last_sign_in,
        "open_tickets": open_tickets,
        "roles": ROLES,
    }


@router.get("/settings/users", response_class=HTMLResponse)
def users_page(request: Request, user: PageUser, done: str = "") -> Response:
    require(user, ADMIN)
    return page(
        request, user, "settings_users.html", "users", notice=done, **_context(request, user)
    )


@router.post("/settings/users")
def create_user(
    request: Request,
    user: FormUser,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form()],
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    require(user, ADMIN)
    generated = not password
    # Shown once on the answer page; only the hash is stored.
    password = password or secrets.token_urlsafe(12)
    form = {"email": email, "name": name, "role": role}
    database: Database = request.app.state.db
    try:
        if role not in ROLES:
            raise ActionError(f"role is one of {', '.join(ROLES)}", 422)
        with database.write() as s:
            workspace = s.get(Workspace, user.workspace_ids[0])
            created = admin_actions.create_user(
                s,
                email,
                password,
                Role(role),
                name=name.strip(),
                actor=actor(s, user),
                workspace=workspace,
            )
            created_email = created.email
    except ActionError as exc:
        context = _context(request, user)
        return page(
            request,
            user,
            "settings_users.html",
            "users",
            status_code=exc.status_code,
            error=exc.message,
            form=form,
            **context,
        )
    return page(
        request,
        user,
        "settings_users.html",
        "users",
        created_email=created_email,
        generated_password=password if generated else "",
        **_context(request, user),
    )


@router.post("/settings/users/{user_id}/role")
def change_role(
    request: Request, user: FormUser, user_id: IdPath, role: Annotated[str, Form()]
) -> Response:
    require(user, ADMIN)
    if role not in ROLES:
        raise PageError(422, f"Role is one of {', '.join(ROLES)}.")
    database: Database = request.app.state.db
    with database.write() as s:
        target = member(s, user, user_id)
        try:
            admin_actions.change_role(s, actor(s, user), target, Role(role))
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings/users?done=role", status_code=303)


@router.post("/settings/users/{user_id}/active")
def set_active(
    request: Request,
    user: FormUser,
    user_id: IdPath,
    active: Annotated[str, Form()] = "",
    unassign: Annotated[str, Form()] = "",
) -> Response:
    require(user, ADMIN)
    database: Database = request.app.state.db
    with database.write() as s:
        target = member(s, user, user_id)
        try:
            admin_actions.set_user_active(
                s, actor(s, user), target, bool(active), unassign=bool(unassign)
            )
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse(
        f"/settings/users?done={'activated' if active else 'deactivated'}", status_code=303
    )


@router.post("/settings/users/{user_id}/unassign")
def unassign(request: Request, user: FormUser, user_id: IdPath) -> Response:
    require(user, ADMIN)
    database: Database = request.app.state.db
    with database.write() as s:
        target = member(s, user, user_id)
        try:
            admin_actions.unassign_open_tickets(s, actor(s, user), target)
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings/users?done=unassigned", status_code=303)


@router.post("/settings/posting-rights")
def posting_right(
    request: Request,
    user: FormUser,
    user_id: Annotated[int, Form()],
    channel_account_id: Annotated[int, Form()],
    can_post: Annotated[str, Form()] = "",
) -> Response:
    require(user, ADMIN)
    database: Database = request.app.state.db
    with database.write() as s:
        account = s.get(ChannelAccount, channel_account_id)
        if account is None or account.workspace_id not in user.workspace_ids:
            raise PageError(404, "No such user or account.")
        target = member(s, user, user_id)
        try:
            inbox_actions.set_posting_right(s, actor(s, user), target, account.id, bool(can_post))
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings/users", status_code=303)
