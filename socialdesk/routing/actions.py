"""Routing actions: teams (create, rename, delete), team routing settings, agent shift
and capacity, reassignment when an agent goes away. Each records audit entries and
ticket events with the explanation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.recording import (
    ActionError,
    audit,
    audit_user,
    record_ticket_change,
    require_role,
)
from socialdesk.domain.enums import Role, TicketEventKind
from socialdesk.routing.rules import Strategy, parse_skill, route
from socialdesk.routing.store import OPEN, load_agents, load_teams, remember_round_robin
from socialdesk.store.db import utcnow
from socialdesk.store.models import Team, TeamMember, TeamRouting, Ticket, User

MANAGERS = (str(Role.ADMIN), str(Role.LEAD))
_TEAMS_REFUSED = "only admins and leads change teams"


def configure_team(
    session: Session,
    actor: User | None,
    team: Team,
    *,
    skills: list[str] | None = None,
    strategy: str | None = None,
    overflow_team_id: int | None = None,
    enabled: bool | None = None,
    members: list[int] | None = None,
) -> TeamRouting:
    require_role(actor, MANAGERS, _TEAMS_REFUSED)
    if skills is not None:
        try:
            team.skills = sorted({"{}:{}".format(*parse_skill(s)) for s in skills})
        except ValueError as exc:
            raise ActionError(str(exc), 422) from exc
    routing = session.get(TeamRouting, team.id)
    if routing is None:
        routing = TeamRouting(team_id=team.id, workspace_id=team.workspace_id)
        session.add(routing)
    if strategy is not None:
        if strategy not in Strategy.ALL:
            raise ActionError(f"strategy is one of {', '.join(Strategy.ALL)}", 422)
        routing.strategy = strategy
    if overflow_team_id is not None:
        other = session.get(Team, overflow_team_id)
        if other is None or other.workspace_id != team.workspace_id or other.id == team.id:
            raise ActionError(f"overflow team {overflow_team_id} is not another team here", 422)
    routing.overflow_team_id = overflow_team_id
    if enabled is not None:
        routing.enabled = enabled
    if members is not None:
        for user_id in members:
            user = session.get(User, user_id)
            if user is None or not user.is_active:
                raise ActionError(f"user {user_id} does not exist or is inactive", 422)
        existing = set(
            session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id))
        )
        for user_id in set(members) - existing:
            session.add(TeamMember(team_id=team.id, user_id=user_id))
        for member in session.scalars(select(TeamMember).where(TeamMember.team_id == team.id)):
            if member.user_id not in members:
                session.delete(member)
    session.flush()
    audit(
        session,
        actor,
        "team.routing",
        "team",
        team.id,
        team.workspace_id,
        {
            "skills": team.skills,
            "strategy": routing.strategy,
            "overflow_team_id": routing.overflow_team_id,
            "enabled": routing.enabled,
            "members": members,
        },
    )
    return routing


def set_availability(
    session: Session,
    actor: User | None,
    agent: User,
    *,
    on_shift: bool | None = None,
    max_open_tickets: int | None = None,
    clear_capacity: bool = False,
) -> list[int]:
    """Change shift or capacity; going off shift hands the agent's open tickets on.

    Returns the ids of reassigned tickets. Agents change their own; admins and leads
    anyone's; viewers nobody's.
    """
    if actor is not None and actor.id == agent.id:
        require_role(actor, (*MANAGERS, Role.AGENT, Role.MARKETING), "your role is read only")
    else:
        require_role(actor, MANAGERS, "only admins and leads change another agent's shift")
    if max_open_tickets is not None and max_open_tickets < 0:
        raise ActionError("max_open_tickets must be 0 or more", 422)
    changes: dict[str, Any] = {}
    if max_open_tickets is not None or clear_capacity:
        agent.max_open_tickets = None if clear_capacity else max_open_tickets
        changes["max_open_tickets"] = agent.max_open_tickets
    moved: list[int] = []
    if on_shift is not None and on_shift != agent.on_shift:
        agent.on_shift = on_shift
        changes["on_shift"] = on_shift
        session.flush()
        if not on_shift:
            moved = reassign_from(session, actor, agent)
    audit_user(session, actor, "user.availability", agent, {**changes, "moved": moved})
    return moved


def reassign_from(session: Session, actor: User | None, agent: User) -> list[int]:
    """Route every open ticket of ``agent`` to someone else in its team (or its overflow);
    tickets nobody can take stay with the team, unassigned."""
    tickets = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.assignee_id == agent.id, Ticket.status.in_(OPEN))
            .order_by(Ticket.id)
            .with_for_update()
        )
    )
    if not tickets:
        return []
    conn = session.connection()
    teams = load_teams(conn, {t.workspace_id for t in tickets})
    moved = []
    for ticket in tickets:
        specs = teams.get(ticket.workspace_id, [])
        agents = load_agents(conn, [s.id for s in specs])
        decision = route(specs, agents, {}, preset_team_id=ticket.team_id, exclude=[agent.id])
        explanation = {**decision.explanation, "because": f"user {agent.id} went off shift"}
        kind = TicketEventKind.ASSIGNED if decision.assignee_id else TicketEventKind.UNASSIGNED
        record_ticket_change(
            session,
            ticket,
            actor,
            kind,
            {"from": agent.id, "to": decision.assignee_id, **explanation},
        )
        ticket.assignee_id = decision.assignee_id
        if decision.team_id is not None:
            ticket.team_id = decision.team_id
        if decision.assignee_id is not None and decision.team_id is not None:
            remember_round_robin(conn, decision.team_id, decision.assignee_id)
        session.flush()
        moved.append(ticket.id)
    return moved


def _name_taken(session: Session, workspace_id: int, name: str, team_id: int | None) -> bool:
    clash = session.scalar(
        select(Team.id).where(Team.workspace_id == workspace_id, Team.name == name)
    )
    return clash is not None and clash != team_id


def create_team(
    session: Session,
    actor: User | None,
    workspace_id: int,
    name: str,
    skills: list[str] | None = None,
) -> Team:
    require_role(actor, MANAGERS, _TEAMS_REFUSED)
    name = name.strip()
    if not name:
        raise ActionError("a team needs a name", 422)
    if _name_taken(session, workspace_id, name, None):
        raise ActionError(f"a team named {name!r} already exists", 409)
    try:
        clean = sorted({"{}:{}".format(*parse_skill(s)) for s in skills or []})
    except ValueError as exc:
        raise ActionError(str(exc), 422) from exc
    team = Team(workspace_id=workspace_id, name=name, skills=clean, created_at=utcnow())
    session.add(team)
    session.flush()
    audit(session, actor, "team.created", "team", team.id, workspace_id, {"name": name})
    return team


def rename_team(session: Session, actor: User | None, team: Team, name: str) -> Team:
    require_role(actor, MANAGERS, _TEAMS_REFUSED)
    name = name.strip()
    if not name:
        raise ActionError("a team needs a name", 422)
    if name == team.name:
        return team
    if _name_taken(session, team.workspace_id, name, team.id):
        raise ActionError(f"a team named {name!r} already exists", 409)
    before, team.name = team.name, name
    audit(
        session,
        actor,
        "team.renamed",
        "team",
        team.id,
        team.workspace_id,
        {"from": before, "to": name},
    )
    return team


def delete_team(session: Session, actor: User | None, team: Team) -> None:
    """Delete a team; its tickets keep their assignee and lose the team. Refused while an
    automation rule still sends tickets to it (the rule would fail on every match)."""
    from socialdesk.store.models import AutomationRule

    require_role(actor, MANAGERS, _TEAMS_REFUSED)
    for rule in session.scalars(
        select(AutomationRule).where(AutomationRule.workspace_id == team.workspace_id)
    ):
        if any(a.get("team_id") == team.id for a in rule.actions or []):
            raise ActionError(
                f"automation rule {rule.name!r} uses team {team.name!r}; change the rule first",
                409,
            )
    audit(session, actor, "team.deleted", "team", team.id, team.workspace_id, {"name": team.name})
    session.delete(team)
