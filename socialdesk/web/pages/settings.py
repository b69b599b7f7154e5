"""Settings for admins: users and posting rights, teams, channel accounts, canned responses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from socialdesk.actions import inbox as inbox_actions
from socialdesk.actions.recording import ActionError
from socialdesk.store.db import Database
from socialdesk.store.models import (
    AuditEntry,
    CannedResponse,
    ChannelAccount,
    Membership,
    PostingRight,
    Team,
    User,
)
from socialdesk.web.pages.common import PageError, action_error, render
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)


def _require(user: WebUser, *roles: str) -> None:
    if user.role not in roles:
        raise PageError(403, "Settings are for admins.")


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, user: PageUser) -> Response:
    _require(user, "admin")
    database: Database = request.app.state.db
    ws = user.workspace_ids
    with database.session() as s:
        users = list(
            s.scalars(
                select(User)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.workspace_id.in_(ws))
                .distinct()
                .order_by(User.email)
            )
        )
        accounts = list(
            s.scalars(
                select(ChannelAccount)
                .where(ChannelAccount.workspace_id.in_(ws))
                .order_by(ChannelAccount.platform, ChannelAccount.handle)
            )
        )
        rights = {
            (r.user_id, r.channel_account_id): r.can_post
            for r in s.scalars(
                select(PostingRight).where(PostingRight.user_id.in_([u.id for u in users]))
            )
        }
        teams = list(s.scalars(select(Team).where(Team.workspace_id.in_(ws)).order_by(Team.name)))
        canned = list(
            s.scalars(
                select(CannedResponse)
                .where(CannedResponse.workspace_id.in_(ws))
                .order_by(CannedResponse.shortcut)
            )
        )
        audit = list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.workspace_id.in_(ws))
                .order_by(AuditEntry.id.desc())
                .limit(50)
            )
        )
    return render(
        request,
        "settings.html",
        user,
        users=users,
        accounts=accounts,
        rights=rights,
        teams=teams,
        canned=canned,
        audit=audit,
        nav="settings",
    )


@router.post("/settings/canned")
def save_canned(
    request: Request,
    user: FormUser,
    shortcut: Annotated[str, Form(max_length=40)],
    body: Annotated[str, Form(max_length=5000)],
    title: Annotated[str, Form(max_length=200)] = "",
    short_body: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    _require(user, "admin", "lead")
    database: Database = request.app.state.db
    with database.write() as s:
        actor = s.get(User, user.id)
        assert actor is not None
        try:
            inbox_actions.save_canned_response(
                s,
                actor,
                user.workspace_ids[0],
                shortcut=shortcut,
                body=body,
                title=title,
                short_body=short_body,
            )
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings#canned", status_code=303)


@router.post("/settings/posting-rights")
def posting_right(
    request: Request,
    user: FormUser,
    user_id: Annotated[int, Form()],
    channel_account_id: Annotated[int, Form()],
    can_post: Annotated[str, Form()] = "",
) -> Response:
    _require(user, "admin")
    database: Database = request.app.state.db
    with database.write() as s:
        actor = s.get(User, user.id)
        target = s.get(User, user_id)
        account = s.get(ChannelAccount, channel_account_id)
        if target is None or account is None or account.workspace_id not in user.workspace_ids:
            raise PageError(404, "No such user or account.")
        assert actor is not None
        try:
            inbox_actions.set_posting_right(s, actor, target, account.id, bool(can_post))
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings#users", status_code=303)
