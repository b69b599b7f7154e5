"""Settings → Automation rules (admins): list with last firing, the editor (event,
conditions, actions in the vocabulary of automation/rules.py), enable/disable, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from socialdesk.actions.recording import ActionError
from socialdesk.automation import admin as rule_actions
from socialdesk.automation.rules import (
    ACTIONS,
    EVENTS,
    FIELDS,
    RULE_STATUSES,
    out_of_hours_acknowledgement,
)
from socialdesk.domain.enums import Priority, TicketEventKind
from socialdesk.store.db import Database
from socialdesk.store.models import AutomationRule, Team, TicketEvent
from socialdesk.web.api.params import IdPath
from socialdesk.web.pages.common import action_error
from socialdesk.web.pages.settings.base import ADMIN, actor, owned, page, require, workspace_users
from socialdesk.web.pages.settings.rule_form import form_rows, rule_from_form
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)
EVENT_LABELS = {
    "ticket_created": "A ticket is created",
    "customer_message": "A customer writes",
    "agent_reply": "An agent replies",
    "status_change": "The status changes",
    "sla_warning": "An SLA target is at risk",
    "sla_breach": "An SLA target is breached",
    "time_elapsed": "Time has passed (checked periodically)",
    "mention_found": "A saved search finds a post (Mentions)",
}
ACTION_HINTS = {
    "assign_team": "team",
    "assign_agent": "agent",
    "set_priority": "value: " + " / ".join(Priority),
    "add_tag": "value: the tag",
    "send_canned_reply": "value: reply text ({next_open}, {first_name}…)",
    "notify": "value: message; team or agent",
    "close_as_noise": "—",
    "set_status": "value: " + " / ".join(RULE_STATUSES),
    "escalate": "optional team and message",
    "notify_email": "value: message; e-mail to, team or agent",
    "create_ticket": "— (mention_found rules: the mention becomes a ticket)",
}


def _last_fired(s: Any, workspace_ids: tuple[int, ...]) -> dict[int, Any]:
    """rule id → when it last fired (from its rule_fired ticket events)."""
    rows = s.execute(
        select(TicketEvent.actor, func.max(TicketEvent.created_at))
        .where(
            TicketEvent.workspace_id.in_(workspace_ids),
            TicketEvent.kind == str(TicketEventKind.RULE_FIRED),
        )
        .group_by(TicketEvent.actor)
    )
    out = {}
    for who, at in rows:
        _, _, rule_id = str(who).partition(":")
        if rule_id.isdigit():
            out[int(rule_id)] = at
    return out


@router.get("/settings/rules", response_class=HTMLResponse)
def rules_page(request: Request, user: PageUser) -> Response:
    require(user, ADMIN)
    database: Database = request.app.state.db
    with database.session() as s:
        rules = list(
            s.scalars(
                select(AutomationRule)
                .where(AutomationRule.workspace_id.in_(user.workspace_ids))
                .order_by(AutomationRule.position, AutomationRule.id)
            )
        )
        fired = _last_fired(s, user.workspace_ids)
    return page(
        request,
        user,
        "settings_rules.html",
        "rules",
        rules=rules,
        fired=fired,
        event_labels=EVENT_LABELS,
    )


def _editor(
    request: Request,
    user: WebUser,
    values: dict[str, Any],
    *,
    rule_id: int | None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    database: Database = request.app.state.db
    with database.session() as s:
        teams = [
            (t.id, t.name)
            for t in s.scalars(
                select(Team).where(Team.workspace_id.in_(user.workspace_ids)).order_by(Team.name)
            )
        ]
        agents = [(u.id, u.name or u.email) for u in workspace_users(s, user) if u.is_active]
    conditions, actions = form_rows(values.get("conditions", []), values.get("actions", []))
    return page(
        request,
        user,
        "settings_rule_edit.html",
        "rules",
        status_code=status_code,
        rule_id=rule_id,
        values=values,
        cond_rows=conditions,
        act_rows=actions,
        events=EVENTS,
        event_labels=EVENT_LABELS,
        fields=FIELDS,
        action_types=list(ACTIONS),
        action_hints=ACTION_HINTS,
        teams=teams,
        agents=agents,
        error=error,
    )


@router.get("/settings/rules/new", response_class=HTMLResponse)
def new_rule(request: Request, user: PageUser, preset: str = "") -> Response:
    require(user, ADMIN)
    if preset == "out_of_hours":
        values: dict[str, Any] = {**out_of_hours_acknowledgement(), "enabled": True, "position": 0}
    else:
        values = {"name": "", "event": "ticket_created", "enabled": True, "position": 0}
    return _editor(request, user, values, rule_id=None)


@router.get("/settings/rules/{rule_id}", response_class=HTMLResponse)
def edit_rule(request: Request, user: PageUser, rule_id: IdPath) -> Response:
    require(user, ADMIN)
    database: Database = request.app.state.db
    with database.session() as s:
        rule = owned(s, user, AutomationRule, rule_id, "rule")
        values = {
            "name": rule.name,
            "event": rule.event,
            "conditions": list(rule.conditions),
            "actions": list(rule.actions),
            "enabled": rule.enabled,
            "position": rule.position,
        }
    return _editor(request, user, values, rule_id=rule_id)


def _save(request: Request, user: WebUser, form: dict[str, str], rule_id: int | None) -> Response:
    require(user, ADMIN)
    values = rule_from_form(form)
    if form.get("more"):
        # "More rows": the same editor with blank rows added, nothing saved yet.
        return _editor(request, user, values, rule_id=rule_id)
    database: Database = request.app.state.db
    try:
        with database.write() as s:
            rule = owned(s, user, AutomationRule, rule_id, "rule") if rule_id else None
            workspace_id = rule.workspace_id if rule else user.workspace_ids[0]
            rule_actions.save_rule(s, actor(s, user), workspace_id, rule=rule, **values)
    except ActionError as exc:
        # Back to the editor with what was typed and the validator's own words.
        return _editor(
            request, user, values, rule_id=rule_id, error=exc.message, status_code=exc.status_code
        )
    return RedirectResponse("/settings/rules", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


@router.post("/settings/rules")
async def create_rule(request: Request, user: FormUser) -> Response:
    return await run_in_threadpool(_save, request, user, await _form(request), None)


@router.post("/settings/rules/{rule_id}")
async def update_rule(request: Request, user: FormUser, rule_id: IdPath) -> Response:
    return await run_in_threadpool(_save, request, user, await _form(request), rule_id)


@router.post("/settings/rules/{rule_id}/enabled")
def toggle_rule(
    request: Request, user: FormUser, rule_id: IdPath, enabled: Annotated[str, Form()] = ""
) -> Response:
    require(user, ADMIN)
    database: Database = request.app.state.db
    with database.write() as s:
        rule = owned(s, user, AutomationRule, rule_id, "rule")
        rule_actions.set_rule_enabled(s, actor(s, user), rule, bool(enabled))
    return RedirectResponse("/settings/rules", status_code=303)


@router.post("/settings/rules/{rule_id}/delete")
def delete_rule(request: Request, user: FormUser, rule_id: IdPath) -> Response:
    require(user, ADMIN)
    database: Database = request.app.state.db
    with database.write() as s:
        rule = owned(s, user, AutomationRule, rule_id, "rule")
        try:
            rule_actions.delete_rule(s, actor(s, user), rule)
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings/rules", status_code=303)
