"""Settings → Teams (admins and leads): teams, members, skills, routing mode, overflow,
and each agent's capacity and shift."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from socialdesk.actions.recording import ActionError
from socialdesk.routing import actions as routing_actions
from socialdesk.routing.rules import Strategy
from socialdesk.routing.store import open_counts
from socialdesk.store.db import Database
from socialdesk.store.models import Team, TeamMember, TeamRouting
from socialdesk.web.api.params import IdPath, parse_id, parse_int
from socialdesk.web.pages.common import PageError, action_error
from socialdesk.web.pages.settings.base import (
    ADMIN_LEAD,
    actor,
    member,
    owned,
    page,
    require,
    workspace_users,
)
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)
STRATEGIES = {Strategy.ROUND_ROBIN: "Round robin", Strategy.LEAST_LOADED: "Least loaded"}
SKILL_HINT = "language:es, channel:x, product:billing, intent:complaint"


def _context(request: Request, user: WebUser) -> dict[str, Any]:
    database: Database = request.app.state.db
    with database.session() as s:
        teams = list(
            s.scalars(
                select(Team).where(Team.workspace_id.in_(user.workspace_ids)).order_by(Team.name)
            )
        )
        team_ids = [t.id for t in teams]
        routing = {
            r.team_id: r
            for r in s.scalars(select(TeamRouting).where(TeamRouting.team_id.in_(team_ids)))
        }
        members: dict[int, list[int]] = {}
        for team_id, user_id in s.execute(
            select(TeamMember.team_id, TeamMember.user_id).where(TeamMember.team_id.in_(team_ids))
        ):
            members.setdefault(team_id, []).append(user_id)
        people = workspace_users(s, user)
        loads = open_counts(s.connection(), [p.id for p in people])
        for row in (*teams, *routing.values(), *people):
            s.expunge(row)
    return {
        "teams": teams,
        "routing": routing,
        "members": members,
        "people": people,
        "names": {p.id: p.name or p.email for p in people},
        "team_names": {t.id: t.name for t in teams},
        "loads": loads,
        "strategies": STRATEGIES,
        "skill_hint": SKILL_HINT,
    }


@router.get("/settings/teams", response_class=HTMLResponse)
def teams_page(request: Request, user: PageUser) -> Response:
    require(user, ADMIN_LEAD)
    return page(request, user, "settings_teams.html", "teams", **_context(request, user))


@router.post("/settings/teams")
def create_team(
    request: Request,
    user: FormUser,
    name: Annotated[str, Form(max_length=100)],
    skills: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    try:
        with database.write() as s:
            team = routing_actions.create_team(
                s, actor(s, user), user.workspace_ids[0], name, _skills(skills)
            )
            team_id = team.id
    except ActionError as exc:
        return page(
            request,
            user,
            "settings_teams.html",
            "teams",
            status_code=exc.status_code,
            error=exc.message,
            form={"name": name, "skills": skills},
            **_context(request, user),
        )
    return RedirectResponse(f"/settings/teams/{team_id}", status_code=303)


@router.get("/settings/teams/{team_id}", response_class=HTMLResponse)
def team_page(request: Request, user: PageUser, team_id: IdPath) -> Response:
    require(user, ADMIN_LEAD)
    context = _context(request, user)
    team = _find(context, team_id)
    return page(request, user, "settings_team.html", "teams", team=team, form=None, **context)


def _find(context: dict[str, Any], team_id: int) -> Team:
    for team in context["teams"]:
        if team.id == team_id:
            return team
    raise PageError(404, "No such team.")


def _skills(text: str) -> list[str]:
    return [s.strip() for s in text.replace("\n", ",").split(",") if s.strip()]


@router.post("/settings/teams/{team_id}")
def save_team(
    request: Request,
    user: FormUser,
    team_id: IdPath,
    name: Annotated[str, Form(max_length=100)],
    strategy: Annotated[str, Form()],
    skills: Annotated[str, Form(max_length=1000)] = "",
    overflow_team_id: Annotated[str, Form()] = "",
    routing_enabled: Annotated[str, Form()] = "",
    members: Annotated[list[int] | None, Form()] = None,
) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    try:
        with database.write() as s:
            team = owned(s, user, Team, team_id, "team")
            who = actor(s, user)
            routing_actions.rename_team(s, who, team, name)
            routing_actions.configure_team(
                s,
                who,
                team,
                skills=_skills(skills),
                strategy=strategy,
                overflow_team_id=parse_id(overflow_team_id),
                enabled=bool(routing_enabled),
                members=sorted(set(members or [])),
            )
    except ActionError as exc:
        context = _context(request, user)
        return page(
            request,
            user,
            "settings_team.html",
            "teams",
            status_code=exc.status_code,
            error=exc.message,
            team=_find(context, team_id),
            form={
                "name": name,
                "skills": skills,
                "strategy": strategy,
                "overflow_team_id": overflow_team_id,
                "routing_enabled": bool(routing_enabled),
                "members": set(members or []),
            },
            **context,
        )
    return RedirectResponse("/settings/teams", status_code=303)


@router.post("/settings/teams/{team_id}/delete")
def delete_team(request: Request, user: FormUser, team_id: IdPath) -> Response:
    require(user, ADMIN_LEAD)
    database: Database = request.app.state.db
    with database.write() as s:
        team = owned(s, user, Team, team_id, "team")
        try:
            routing_actions.delete_team(s, actor(s, user), team)
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings/teams", status_code=303)


@router.post("/settings/agents/{user_id}")
def availability(
    request: Request,
    user: FormUser,
    user_id: IdPath,
    capacity: Annotated[str, Form(max_length=6)] = "",
    on_shift: Annotated[str, Form()] = "",
) -> Response:
    """Capacity (empty = no limit) and shift; going off shift hands open tickets on."""
    require(user, ADMIN_LEAD)
    text = capacity.strip()
    if text and parse_int(text, 0, 999_999) is None:
        raise action_error(ActionError("capacity is a whole number of open tickets, or empty", 422))
    database: Database = request.app.state.db
    with database.write() as s:
        agent = member(s, user, user_id)
        try:
            routing_actions.set_availability(
                s,
                actor(s, user),
                agent,
                on_shift=bool(on_shift),
                max_open_tickets=int(text) if text else None,
                clear_capacity=not text,
            )
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/settings/teams#agents", status_code=303)
