"""Service levels, routing and automation: policies, rules, team routing, agent shifts,
the SLA-at-risk list, the lead's live queue view, follow-ups, notifications and CSAT."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socialdesk.automation.admin import delete_rule, save_rule
from socialdesk.automation.csat import record_csat
from socialdesk.automation.rules import out_of_hours_acknowledgement
from socialdesk.domain.enums import UNSOLVED_STATUSES, Role
from socialdesk.routing.actions import configure_team, set_availability
from socialdesk.sla import admin as sla_admin
from socialdesk.sla import views as sla_views
from socialdesk.sla.policies import queue_sort_key
from socialdesk.store.db import utcnow
from socialdesk.store.models import (
    AutomationRule,
    FollowUp,
    Membership,
    Notification,
    SlaClock,
    SlaPolicy,
    Team,
    TeamRouting,
    Ticket,
    User,
    Workspace,
)
from socialdesk.web.api.params import DbId, IdPath, Position
from socialdesk.web.api.schemas import PatchModel
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, require_role, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(tags=["service levels"])
# A share of the target after which a clock warns; NaN and infinity are not shares.
WarnShare = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
ADMINS = (Role.ADMIN, Role.LEAD)
OPEN = sorted(str(s) for s in UNSOLVED_STATUSES)


def _workspace(session: Session, user: User, requested: int | None) -> int:
    allowed = workspace_ids(session, user)
    if requested is None:
        if not allowed:
            raise ApiError(403, "you are not a member of any workspace")
        return allowed[0]
    if requested not in allowed:
        raise ApiError(403, f"you are not a member of workspace {requested}")
    return requested


def _owned(session: Session, user: User, model: Any, object_id: int, what: str) -> Any:
    row = session.get(model, object_id)
    if row is None or row.workspace_id not in workspace_ids(session, user):
        raise ApiError(404, f"{what} {object_id} not found")
    return row


# -- SLA policies -------------------------------------------------------------------


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    targets: list[dict[str, Any]]
    calendar: dict[str, Any] | None = None
    channels: list[str] = []
    pause_on_hold: bool = False
    warn_share: WarnShare = 0.75
    position: Position = 0
    enabled: bool = True
    workspace_id: DbId | None = None


class PolicyPatch(PatchModel):
    # null: around the clock (no business-hours calendar)
    nullable = frozenset({"calendar"})
    name: str | None = Field(default=None, min_length=1, max_length=100)
    targets: list[dict[str, Any]] | None = None
    calendar: dict[str, Any] | None = None
    channels: list[str] | None = None
    pause_on_hold: bool | None = None
    warn_share: WarnShare | None = None
    position: Position | None = None
    enabled: bool | None = None


class PolicyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    workspace_id: int
    name: str
    targets: list[dict[str, Any]]
    calendar: dict[str, Any] | None
    channels: list[str]
    pause_on_hold: bool
    warn_share: float
    position: int
    enabled: bool


@router.get("/sla/policies", response_model=list[PolicyOut])
def policies(session: ReadSession, user: CurrentUser) -> list[SlaPolicy]:
    return list(
        session.scalars(
            select(SlaPolicy)
            .where(SlaPolicy.workspace_id.in_(workspace_ids(session, user)))
            .order_by(SlaPolicy.position, SlaPolicy.id)
        )
    )


@router.post("/sla/policies", response_model=PolicyOut, status_code=201)
def create_policy(body: PolicyIn, session: WriteSession, user: CurrentUser) -> SlaPolicy:
    require_role(user, *ADMINS)
    workspace_id = _workspace(session, user, body.workspace_id)
    return sla_admin.create_policy(
        session, user, workspace_id, **body.model_dump(exclude={"workspace_id"})
    )


@router.patch("/sla/policies/{policy_id}", response_model=PolicyOut)
def update_policy(
    policy_id: IdPath, body: PolicyPatch, session: WriteSession, user: CurrentUser
) -> SlaPolicy:
    require_role(user, *ADMINS)
    policy = _owned(session, user, SlaPolicy, policy_id, "policy")
    values = body.model_dump(exclude_unset=True)
    if not values:
        raise ApiError(422, "nothing to change")
    return sla_admin.update_policy(session, user, policy, **values)


@router.delete("/sla/policies/{policy_id}", status_code=204)
def remove_policy(policy_id: IdPath, session: WriteSession, user: CurrentUser) -> Response:
    require_role(user, *ADMINS)
    sla_admin.delete_policy(session, user, _owned(session, user, SlaPolicy, policy_id, "policy"))
    return Response(status_code=204)


class SettingsPatch(PatchModel):
    social_cuts_line: bool | None = None
    ask_after_solve: bool | None = None


@router.get("/sla/settings")
def get_settings_(
    session: ReadSession, user: CurrentUser, workspace: DbId | None = None
) -> dict[str, Any]:
    ws = session.get(Workspace, _workspace(session, user, workspace))
    assert ws is not None
    return sla_admin.workspace_settings(ws)


@router.patch("/sla/settings")
def patch_settings(
    body: SettingsPatch, session: WriteSession, user: CurrentUser, workspace: DbId | None = None
) -> dict[str, Any]:
    require_role(user, *ADMINS)
    ws = session.get(Workspace, _workspace(session, user, workspace))
    assert ws is not None
    return sla_admin.update_workspace_settings(
        session, user, ws, body.model_dump(exclude_none=True)
    )


@router.get("/sla/at-risk")
def at_risk(
    session: ReadSession,
    user: CurrentUser,
    within_minutes: Annotated[int, Query(ge=0, le=7 * 24 * 60)] = 60,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    """Running clocks already breached or due within ``within_minutes``, soonest first."""
    horizon = utcnow() + timedelta(minutes=within_minutes)
    rows = session.execute(
        select(
            SlaClock.ticket_id,
            SlaClock.target,
            SlaClock.due_at,
            SlaClock.breached,
            Ticket.subject,
            Ticket.platform,
            Ticket.priority,
            Ticket.assignee_id,
            Ticket.team_id,
        )
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(
            sla_views.running_clocks(workspace_ids(session, user)),
            SlaClock.due_at <= horizon,
        )
        .order_by(SlaClock.due_at)
        .limit(limit)
    )
    return [r._asdict() for r in rows]


# -- routing ------------------------------------------------------------------------


class TeamRoutingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    skills: list[str] | None = None
    strategy: Literal["round_robin", "least_loaded"] | None = None
    overflow_team_id: DbId | None = None
    enabled: bool | None = None
    members: list[DbId] | None = Field(default=None, max_length=1000)


@router.put("/teams/{team_id}/routing")
def put_team_routing(
    team_id: IdPath, body: TeamRoutingIn, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    require_role(user, *ADMINS)
    team = _owned(session, user, Team, team_id, "team")
    routing = configure_team(session, user, team, **body.model_dump())
    return _team_out(session, team, routing)


@router.get("/teams/{team_id}/routing")
def get_team_routing(team_id: IdPath, session: ReadSession, user: CurrentUser) -> dict[str, Any]:
    team = _owned(session, user, Team, team_id, "team")
    return _team_out(session, team, session.get(TeamRouting, team.id))


def _team_out(session: Session, team: Team, routing: TeamRouting | None) -> dict[str, Any]:
    from socialdesk.store.models import TeamMember

    members = list(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id)))
    return {
        "team_id": team.id,
        "name": team.name,
        "skills": team.skills,
        "routing_enabled": bool(routing and routing.enabled),
        "strategy": routing.strategy if routing else None,
        "overflow_team_id": routing.overflow_team_id if routing else None,
        "members": sorted(members),
    }


class AvailabilityIn(PatchModel):
    on_shift: bool | None = None
    max_open_tickets: int | None = Field(default=None, ge=0, le=10_000)
    unlimited: bool = False


@router.patch("/agents/{user_id}/availability")
def availability(
    user_id: IdPath, body: AvailabilityIn, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    if user_id != user.id:
        require_role(user, *ADMINS)
    agent = session.get(User, user_id)
    shared = session.scalar(
        select(Membership.user_id).where(
            Membership.user_id == user_id,
            Membership.workspace_id.in_(workspace_ids(session, user)),
        )
    )
    if agent is None or shared is None:
        raise ApiError(404, f"user {user_id} not found")
    moved = set_availability(
        session,
        user,
        agent,
        on_shift=body.on_shift,
        max_open_tickets=body.max_open_tickets,
        clear_capacity=body.unlimited,
    )
    return {
        "user_id": agent.id,
        "on_shift": agent.on_shift,
        "max_open_tickets": agent.max_open_tickets,
        "reassigned_ticket_ids": moved,
    }


@router.get("/queue/live")
def live_queue(session: ReadSession, user: CurrentUser) -> dict[str, Any]:
    """A lead's view: queue sizes, the oldest waiting post per channel, agents' load."""
    return sla_views.live_queue(session, workspace_ids(session, user), utcnow())


@router.get("/queue/next")
def next_in_queue(
    session: ReadSession, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=100)] = 25
) -> list[dict[str, Any]]:
    """Unsolved tickets waiting for a reply in queue order (priority, then — when the
    workspace lets social cut the line — social before e-mail, then time due)."""
    allowed = workspace_ids(session, user)
    if not allowed:
        return []
    ws = session.get(Workspace, allowed[0])
    cuts = bool(ws and sla_admin.workspace_settings(ws)["social_cuts_line"])
    due = func.coalesce(Ticket.first_response_due_at, Ticket.next_response_due_at)
    rows = session.execute(
        select(Ticket.id, Ticket.platform, Ticket.priority, due.label("due_at"), Ticket.subject)
        .where(
            Ticket.workspace_id.in_(allowed),
            Ticket.status.in_(OPEN),
            Ticket.needs_reply.is_(True),
        )
        .order_by(due.is_(None), due)
        .limit(500)
    ).all()
    ordered = sorted(
        rows,
        key=lambda r: queue_sort_key(r.platform, r.priority, r.due_at, r.id, social_cuts_line=cuts),
    )
    return [r._asdict() for r in ordered[:limit]]


# -- automation ---------------------------------------------------------------------


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    event: str
    conditions: list[Any] = []
    actions: list[Any]
    enabled: bool = True
    position: Position = 0
    workspace_id: DbId | None = None


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    workspace_id: int
    name: str
    event: str
    conditions: list[Any]
    actions: list[Any]
    enabled: bool
    position: int


@router.get("/automation/rules", response_model=list[RuleOut])
def rules(session: ReadSession, user: CurrentUser) -> list[AutomationRule]:
    return list(
        session.scalars(
            select(AutomationRule)
            .where(AutomationRule.workspace_id.in_(workspace_ids(session, user)))
            .order_by(AutomationRule.position, AutomationRule.id)
        )
    )


@router.post("/automation/rules", response_model=RuleOut, status_code=201)
def create_rule(body: RuleIn, session: WriteSession, user: CurrentUser) -> AutomationRule:
    require_role(user, Role.ADMIN)
    workspace_id = _workspace(session, user, body.workspace_id)
    return save_rule(session, user, workspace_id, **body.model_dump(exclude={"workspace_id"}))


@router.post("/automation/rules/out-of-hours-ack", response_model=RuleOut, status_code=201)
def create_out_of_hours_ack(
    session: WriteSession, user: CurrentUser, body: dict[str, Any] | None = None
) -> AutomationRule:
    """The out-of-hours acknowledgement as an ordinary, editable rule."""
    require_role(user, Role.ADMIN)
    text = (body or {}).get("body")
    if text is not None and (not isinstance(text, str) or not text.strip()):
        raise ApiError(422, "body: a non-empty string")
    return save_rule(
        session, user, _workspace(session, user, None), **out_of_hours_acknowledgement(text)
    )


@router.put("/automation/rules/{rule_id}", response_model=RuleOut)
def replace_rule(
    rule_id: IdPath, body: RuleIn, session: WriteSession, user: CurrentUser
) -> AutomationRule:
    require_role(user, Role.ADMIN)
    rule = _owned(session, user, AutomationRule, rule_id, "rule")
    values = body.model_dump(exclude={"workspace_id"})
    return save_rule(session, user, rule.workspace_id, rule=rule, **values)


@router.delete("/automation/rules/{rule_id}", status_code=204)
def remove_rule(rule_id: IdPath, session: WriteSession, user: CurrentUser) -> Response:
    require_role(user, Role.ADMIN)
    delete_rule(session, user, _owned(session, user, AutomationRule, rule_id, "rule"))
    return Response(status_code=204)


# -- follow-through -----------------------------------------------------------------


@router.get("/follow-ups")
def follow_ups(
    session: ReadSession,
    user: CurrentUser,
    status: Literal["open", "done", "cancelled"] = "open",
    mine: bool = True,
) -> list[dict[str, Any]]:
    query = select(FollowUp).where(
        FollowUp.workspace_id.in_(workspace_ids(session, user)), FollowUp.status == status
    )
    if mine:
        query = query.where(FollowUp.user_id == user.id)
    return [
        {
            "id": f.id,
            "ticket_id": f.ticket_id,
            "user_id": f.user_id,
            "phrase": f.phrase,
            "due_at": f.due_at,
            "overdue": f.status == "open" and (f.overdue_at is not None or f.due_at < utcnow()),
            # When the scan put the ticket back in the queue and notified the promiser.
            "overdue_at": f.overdue_at,
            "status": f.status,
        }
        for f in session.scalars(query.order_by(FollowUp.due_at).limit(200))
    ]


@router.get("/notifications")
def notifications(
    session: ReadSession, user: CurrentUser, unread: bool = True
) -> list[dict[str, Any]]:
    query = select(Notification).where(Notification.user_id == user.id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return [
        {"id": n.id, "ticket_id": n.ticket_id, "kind": n.kind, "body": n.body, "at": n.created_at}
        for n in session.scalars(query.order_by(Notification.id.desc()).limit(100))
    ]


class CsatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


@router.post("/tickets/{ticket_id}/csat", status_code=201)
def csat(
    ticket_id: IdPath, body: CsatIn, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    ticket = _owned(session, user, Ticket, ticket_id, "ticket")
    answer = record_csat(session, ticket, user, body.score, body.comment)
    return {"id": answer.id, "ticket_id": ticket.id, "score": answer.score}
