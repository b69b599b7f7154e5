"""The incidents the crisis radar raised: the list and each incident's room (timeline,
volume chart, top terms, the tickets, the holding reply form). Thin: the rules are in
``actions/incidents.py`` and the reads in ``radar/views.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions import incidents as incident_actions
from socialdesk.actions.recording import ActionError
from socialdesk.radar.views import incident_view, list_incidents, tickets_of, top_terms, volume
from socialdesk.reports import charts
from socialdesk.store.db import Database
from socialdesk.store.models import AuditEntry, Incident
from socialdesk.web.api.params import IdPath
from socialdesk.web.pages.common import PageError, action_error, render
from socialdesk.web.pages.settings.base import actor
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)
DEFAULT_TEMPLATE = (
    "We're sorry about the trouble with {topic} today. We're on it and will update you "
    "here as soon as we know more."
)


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(request: Request, user: PageUser) -> Response:
    database: Database = request.app.state.db
    with database.session() as s:
        views = list_incidents(s, list(user.workspace_ids), limit=100)
        return render(request, "incidents.html", user, nav="incidents", incidents=views)


def _load(s: Session, user: WebUser, incident_id: int) -> Incident:
    incident = s.get(Incident, incident_id)
    if incident is None or incident.workspace_id not in user.workspace_ids:
        raise PageError(404, f"Incident {incident_id} was not found.")
    return incident


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_room(request: Request, user: PageUser, incident_id: IdPath) -> Response:
    database: Database = request.app.state.db
    with database.session() as s:
        incident = _load(s, user, incident_id)
        view = incident_view(s, incident)
        hours = volume(s, incident)
        chart = charts.stacked_columns(
            [at.strftime("%H") for at, _ in hours],
            [[n] for _, n in hours],
            [f"negative posts about {incident.topic}"],
            title=f"Negative posts about {incident.topic} per hour (UTC)",
            width=720,
            label_every=max(1, len(hours) // 18),
        )
        timeline = list(
            s.execute(
                select(AuditEntry.created_at, AuditEntry.action, AuditEntry.data)
                .where(
                    AuditEntry.workspace_id == incident.workspace_id,
                    AuditEntry.object_type == "incident",
                    AuditEntry.object_id == incident.id,
                )
                .order_by(AuditEntry.id)
            )
        )
        return render(
            request, "incident.html", user, nav="incidents", view=view, incident=incident,
            chart=chart, terms=top_terms(s, incident), tickets=tickets_of(s, incident.id),
            timeline=timeline, template=DEFAULT_TEMPLATE,
            done=request.query_params.get("done"),
        )  # fmt: skip


@router.post("/incidents/{incident_id}/holding-replies")
def holding_replies(
    request: Request,
    user: FormUser,
    incident_id: IdPath,
    template: Annotated[str, Form(max_length=incident_actions.TEMPLATE_LIMIT)],
) -> Response:
    database: Database = request.app.state.db
    try:
        with database.write() as s:
            incident = _load(s, user, incident_id)
            outcome = incident_actions.holding_replies(s, incident, actor(s, user), template)
    except ActionError as exc:
        raise action_error(exc) from exc
    if outcome.sent:
        request.app.state.delivery_worker.kick()
    done = f"sent-{len(outcome.sent)}-drafted-{len(outcome.drafted)}-skipped-{len(outcome.skipped)}"
    return RedirectResponse(f"/incidents/{incident_id}?done={done}", status_code=303)


@router.post("/incidents/{incident_id}/close")
def close(request: Request, user: FormUser, incident_id: IdPath) -> Response:
    database: Database = request.app.state.db
    try:
        with database.write() as s:
            incident_actions.close_incident(s, _load(s, user, incident_id), actor(s, user))
    except ActionError as exc:
        raise action_error(exc) from exc
    return RedirectResponse(f"/incidents/{incident_id}?done=closed", status_code=303)
