"""Loading routed teams and their agents' loads (set queries, one per batch)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, select, update

from socialdesk.domain.enums import UNSOLVED_STATUSES
from socialdesk.routing.rules import AgentLoad, TeamSpec
from socialdesk.store.models import Team, TeamMember, TeamRouting, Ticket, User
from socialdesk.store.models.base import table_of

_teams = table_of(Team)
_routing = table_of(TeamRouting)
_members = table_of(TeamMember)
_users = table_of(User)
_tickets = table_of(Ticket)
OPEN = sorted(str(s) for s in UNSOLVED_STATUSES)


def load_teams(conn: Connection, workspace_ids: Iterable[int]) -> dict[int, list[TeamSpec]]:
    """Teams with routing enabled, per workspace."""
    wanted = sorted(set(workspace_ids))
    out: dict[int, list[TeamSpec]] = {w: [] for w in wanted}
    rows = conn.execute(
        select(
            _teams.c.id,
            _teams.c.workspace_id,
            _teams.c.name,
            _teams.c.skills,
            _routing.c.strategy,
            _routing.c.overflow_team_id,
            _routing.c.last_assigned_user_id,
        )
        .join(_routing, _routing.c.team_id == _teams.c.id)
        .where(_teams.c.workspace_id.in_(wanted), _routing.c.enabled.is_(True))
    )
    for r in rows:
        out[r.workspace_id].append(
            TeamSpec(
                r.id,
                r.name,
                frozenset(str(s) for s in (r.skills or [])),
                r.strategy,
                r.overflow_team_id,
                r.last_assigned_user_id,
            )
        )
    return out


def load_agents(conn: Connection, team_ids: Iterable[int]) -> dict[int, list[AgentLoad]]:
    """Members of each team with shift, capacity and open assigned tickets."""
    wanted = sorted(set(team_ids))
    out: dict[int, list[AgentLoad]] = {t: [] for t in wanted}
    if not wanted:
        return out
    members = conn.execute(
        select(
            _members.c.team_id,
            _users.c.id,
            _users.c.on_shift,
            _users.c.is_active,
            _users.c.max_open_tickets,
            _users.c.role,
        )
        .join(_users, _users.c.id == _members.c.user_id)
        .where(_members.c.team_id.in_(wanted))
    ).all()
    user_ids = sorted({m.id for m in members})
    loads = open_counts(conn, user_ids)
    for m in members:
        if m.role == "viewer":
            continue
        out[m.team_id].append(
            AgentLoad(m.id, m.on_shift, m.is_active, m.max_open_tickets, loads.get(m.id, 0))
        )
    return out


def open_counts(conn: Connection, user_ids: list[int]) -> dict[int, int]:
    if not user_ids:
        return {}
    rows = conn.execute(
        select(_tickets.c.assignee_id, func.count())
        .where(_tickets.c.assignee_id.in_(user_ids), _tickets.c.status.in_(OPEN))
        .group_by(_tickets.c.assignee_id)
    )
    return {r[0]: int(r[1]) for r in rows}


def remember_round_robin(conn: Connection, team_id: int, user_id: int) -> None:
    conn.execute(
        update(_routing).where(_routing.c.team_id == team_id).values(last_assigned_user_id=user_id)
    )
