from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from socialdesk.domain.enums import Role
from socialdesk.routing import actions as routing_actions
from socialdesk.store.models import AuditEntry, Membership, Team, User
from socialdesk.web.api.params import DbId
from socialdesk.web.api.schemas import AuditOut, TeamCreate, TeamOut, UserOut
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, require_role, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(tags=["people"])


@router.get("/users", response_model=list[UserOut])
def users(session: ReadSession, user: CurrentUser) -> list[User]:
    members = select(Membership.user_id).where(
        Membership.workspace_id.in_(workspace_ids(session, user))
    )
    return list(
        session.scalars(select(User).where(User.id.in_(members)).order_by(User.name, User.email))
    )


@router.get("/teams", response_model=list[TeamOut])
def teams(session: ReadSession, user: CurrentUser) -> list[Team]:
    return list(
        session.scalars(
            select(Team)
            .where(Team.workspace_id.in_(workspace_ids(session, user)))
            .order_by(Team.name)
        )
    )


@router.post("/teams", response_model=TeamOut, status_code=201)
def create_team(body: TeamCreate, session: WriteSession, user: CurrentUser) -> Team:
    allowed = workspace_ids(session, user)
    workspace_id = (
        body.workspace_id if body.workspace_id is not None else (allowed[0] if allowed else None)
    )
    if workspace_id is None or workspace_id not in allowed:
        raise ApiError(403, f"you are not a member of workspace {body.workspace_id}")
    # The same action as Settings → Teams: role, name and skills are checked there.
    return routing_actions.create_team(session, user, workspace_id, body.name, body.skills)


@router.get("/audit", response_model=list[AuditOut])
def audit_log(
    session: ReadSession,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: DbId | None = None,
) -> list[AuditEntry]:
    require_role(user, Role.ADMIN)
    query = select(AuditEntry).where(AuditEntry.workspace_id.in_(workspace_ids(session, user)))
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))
