"""Incidents the crisis radar raised (docs/radar.md): list, one with its tickets,
personalised holding replies to its tickets, closing it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from socialdesk.actions import incidents as incident_actions
from socialdesk.radar.views import IncidentView, incident_view, list_incidents, tickets_of
from socialdesk.store.models import Incident, User
from socialdesk.web.api.params import IdPath
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(prefix="/incidents", tags=["incidents"])


class SamplePostOut(BaseModel):
    message_id: int
    ticket_id: int
    author: str
    body: str
    posted_at: datetime


class IncidentOut(BaseModel):
    id: int
    workspace_id: int
    account: str
    channel_account_id: int | None
    platform: str
    topic: str
    state: str
    started_at: datetime
    raised_at: datetime
    peak_at: datetime
    ended_at: datetime | None
    size: int
    peak_count: int
    baseline: float
    surprise: float
    sample_posts: list[SamplePostOut]


class IncidentTicketOut(BaseModel):
    id: int
    subject: str
    status: str
    sentiment_label: str | None = None
    topic: str | None = None


class IncidentDetail(IncidentOut):
    tickets: list[IncidentTicketOut]


class HoldingRepliesRequest(BaseModel):
    template: str = Field(
        min_length=1,
        max_length=incident_actions.TEMPLATE_LIMIT,
        description="the reply, with placeholders {first_name}, {name}, {handle}, "
        "{ticket}, {topic}, {account}",
    )


class HoldingRepliesOut(BaseModel):
    sent: list[int]
    drafted: list[int]
    skipped: list[int]


def _out(view: IncidentView) -> dict[str, Any]:
    i = view.incident
    return {
        "id": i.id,
        "workspace_id": i.workspace_id,
        "account": view.account,
        "channel_account_id": i.channel_account_id,
        "platform": view.platform,
        "topic": i.topic,
        "state": i.state,
        "started_at": i.started_at,
        "raised_at": i.raised_at,
        "peak_at": i.peak_at,
        "ended_at": i.ended_at,
        "size": i.size,
        "peak_count": i.peak_count,
        "baseline": round(i.baseline, 3),
        "surprise": round(min(i.surprise, 1e6), 2),
        "sample_posts": [s.__dict__ for s in view.samples],
    }


def load_incident(session: Session, user: User, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None or incident.workspace_id not in workspace_ids(session, user):
        raise ApiError(404, f"incident {incident_id} not found")
    return incident


@router.get("", response_model=list[IncidentOut])
def list_(
    session: ReadSession,
    user: CurrentUser,
    state: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """The workspace's incidents, newest first, each with a few of its posts."""
    views = list_incidents(session, workspace_ids(session, user), state=state, limit=limit)
    return [_out(v) for v in views]


def _detail(session: Session, incident: Incident) -> dict[str, Any]:
    body = _out(incident_view(session, incident))
    body["tickets"] = [
        {
            "id": t.id,
            "subject": t.subject,
            "status": t.status,
            "sentiment_label": t.sentiment_label,
            "topic": t.topic,
        }
        for t in tickets_of(session, incident.id)
    ]
    return body


@router.get("/{incident_id}", response_model=IncidentDetail)
def get(incident_id: IdPath, session: ReadSession, user: CurrentUser) -> Any:
    return _detail(session, load_incident(session, user, incident_id))


@router.post("/{incident_id}/holding-replies", response_model=HoldingRepliesOut)
def holding_replies(
    incident_id: IdPath,
    body: HoldingRepliesRequest,
    session: WriteSession,
    user: CurrentUser,
    background: BackgroundTasks,
    request: Request,
) -> Any:
    """One personalised reply per unsolved ticket (no two texts alike), each through the
    normal reply path: sent (message ids), held for approval (draft ids) or skipped
    (ticket ids: solved, or answered in public moments ago). Asking again sends nothing
    twice."""
    incident = load_incident(session, user, incident_id)
    outcome = incident_actions.holding_replies(session, incident, user, body.template)
    if outcome.sent:
        background.add_task(request.app.state.delivery_worker.kick)
    return outcome.__dict__


@router.post("/{incident_id}/close", response_model=IncidentDetail)
def close(incident_id: IdPath, session: WriteSession, user: CurrentUser) -> Any:
    incident = load_incident(session, user, incident_id)
    incident_actions.close_incident(session, incident, user)
    session.flush()
    return _detail(session, incident)
