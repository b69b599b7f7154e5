"""Settings → SLA policies (admins and leads): targets per channel and priority, the
business calendar, the warning share, and the workspace's "social cuts the line"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from socialdesk.actions.recording import ActionError
from socialdesk.domain.enums import Platform, Priority
from socialdesk.sla import admin as sla_admin
from socialdesk.sla.policies import WEEKDAYS
from socialdesk.store.db import Database
from socialdesk.store.models import SlaPolicy, Workspace
from socialdesk.web.api.params import IdPath
from socialdesk.web.pages.common import PageError, action_error
from socialdesk.web.pages.settings.base import ADMIN_LEAD, actor, owned, page, require
from socialdesk.web.pages.settings.sla_form import form_values, policy_from_form
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)
CHANNELS = [str(p) for p in Platform]
PRIORITIES = [str(p) for p in Priority]


def _as_values(policy: SlaPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in sla_admin.POLICY_FIELDS}


@router.get("/settings/sla", response_class=HTMLResponse)
def sla_page(request: Request, user: PageUser, done: str = "") -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    with database.session() as s:
        policies = list(
            s.scalars(
                select(SlaPolicy)
                .where(SlaPolicy.workspace_id.in_(user.workspace_ids))
                .order_by(SlaPolicy.position, SlaPolicy.id)
            )
        )
        workspace = s.get(Workspace, user.workspace_ids[0]) if user.workspace_ids else None
        levels = sla_admin.workspace_settings(workspace) if workspace else {}
    return page(
        request,
        user,
        "settings_sla.html",
        "sla",
        policies=policies,
        levels=levels,
        notice=done,
    )


def _editor(
    request: Request,
    user: WebUser,
    values: dict[str, Any],
    *,
    policy_id: int | None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    return page(
        request,
        user,
        "settings_sla_edit.html",
        "sla",
        status_code=status_code,
        policy_id=policy_id,
        v=form_values(values),
        channels=CHANNELS,
        priorities=PRIORITIES,
        weekdays=WEEKDAYS,
        error=error,
    )


@router.get("/settings/sla/new", response_class=HTMLResponse)
def new_policy(request: Request, user: PageUser) -> Response:
    require(user, ADMIN_LEAD)
    start = {
        "name": "",
        "enabled": True,
        "targets": [{"first_response_minutes": 60, "resolution_minutes": 1440}],
        "calendar": {
            "timezone": "UTC",
            "hours": {d: [["09:00", "17:00"]] for d in WEEKDAYS[:5]},
        },
    }
    return _editor(request, user, start, policy_id=None)


@router.get("/settings/sla/{policy_id}", response_class=HTMLResponse)
def edit_policy(request: Request, user: PageUser, policy_id: IdPath) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    with database.session() as s:
        values = _as_values(owned(s, user, SlaPolicy, policy_id, "policy"))
    return _editor(request, user, values, policy_id=policy_id)


def _save(
    request: Request,
    user: WebUser,
    form: dict[str, str],
    channels: list[str],
    policy_id: int | None,
) -> Response:
    require(user, ADMIN_LEAD)
    values = policy_from_form(form, channels)
    database: Database = request.app.state.db
    try:
        with database.write() as s:
            who = actor(s, user)
            if policy_id is None:
                sla_admin.create_policy(s, who, user.workspace_ids[0], **values)
            else:
                policy = owned(s, user, SlaPolicy, policy_id, "policy")
                sla_admin.update_policy(s, who, policy, **values)
    except ActionError as exc:
        return _editor(
            request,
            user,
            values,
            policy_id=policy_id,
            error=exc.message,
            status_code=exc.status_code,
        )
    return RedirectResponse("/settings/sla?done=saved", status_code=303)


async def _posted(request: Request) -> tuple[dict[str, str], list[str]]:
    form = await request.form()
    channels = [c for c in form.getlist("channels") if isinstance(c, str)]
    return {k: v for k, v in form.items() if isinstance(v, str)}, channels


@router.post("/settings/sla")
async def create_policy(request: Request, user: FormUser) -> Response:
    form, channels = await _posted(request)
    return await run_in_threadpool(_save, request, user, form, channels, None)


@router.post("/settings/sla/workspace")
def workspace_levels(
    request: Request,
    user: FormUser,
    social_cuts_line: Annotated[str, Form()] = "",
    ask_after_solve: Annotated[str, Form()] = "",
) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    with database.write() as s:
        workspace = s.get(Workspace, user.workspace_ids[0]) if user.workspace_ids else None
        if workspace is None:
            raise PageError(404, "You are not a member of any workspace.")
        try:
            sla_admin.update_workspace_settings(
                s,
                actor(s, user),
                workspace,
                {
                    "social_cuts_line": bool(social_cuts_line),
                    "ask_after_solve": bool(ask_after_solve),
                },
            )
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings/sla?done=workspace", status_code=303)


@router.post("/settings/sla/{policy_id}")
async def update_policy(request: Request, user: FormUser, policy_id: IdPath) -> Response:
    form, channels = await _posted(request)
    return await run_in_threadpool(_save, request, user, form, channels, policy_id)


@router.post("/settings/sla/{policy_id}/delete")
def delete_policy(request: Request, user: FormUser, policy_id: IdPath) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    with database.write() as s:
        policy = owned(s, user, SlaPolicy, policy_id, "policy")
        sla_admin.delete_policy(s, actor(s, user), policy)
    return RedirectResponse("/settings/sla?done=deleted", status_code=303)
