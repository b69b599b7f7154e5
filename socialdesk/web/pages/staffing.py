"""The Reports page's Staffing tab: agents needed in each hour of the week by Erlang C,
beside the agents who actually answered then (``GET /api/v1/reports/staffing``)."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from socialdesk.reports import charts
from socialdesk.reports.overview import Filters
from socialdesk.reports.period import rows_csv
from socialdesk.reports.staffing import WEEKDAYS, parse_forecast
from socialdesk.reports.staffing_plan import StaffingPlan, plan_staffing
from socialdesk.store.db import Database, utcnow
from socialdesk.web.pages.common import PageError, render
from socialdesk.web.pages.reports import READERS
from socialdesk.web.sessions import PageUser, WebUser

router = APIRouter(include_in_schema=False)
# (name, label, default, lowest, highest): what the form asks, as the API's limits.
FIELDS = (
    ("weeks", "Weeks of history", 4.0, 1.0, 26.0),
    ("target_percent", "Answered (%)", 80.0, 1.0, 99.0),
    ("within_minutes", "Within (minutes)", 15.0, 0.0, 1440.0),
    ("handle_seconds", "Handle time (s, empty: measured)", math.nan, 1.0, 28_800.0),
    ("growth", "Expected growth (x, empty: none)", math.nan, 0.01, 10.0),
)


def _number(request: Request, name: str, default: float, low: float, high: float) -> float:
    text = request.query_params.get(name, "").strip()[:20]
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high):
        raise PageError(400, f"{name} must be a number from {low:g} to {high:g}")
    return value


def _plan(request: Request, user: WebUser) -> tuple[StaffingPlan, dict[str, str]]:
    if user.role not in READERS:
        raise PageError(403, "Reports are for leads, admins and viewers.")
    if not user.workspace_ids:
        raise PageError(403, "You are not a member of any workspace.")
    values = {name: _number(request, name, d, lo, hi) for name, _, d, lo, hi in FIELDS}
    channel = request.query_params.get("channel", "").strip()[:20] or None
    forecast_text = request.query_params.get("forecast", "").strip()[:4_000]
    growth = None if math.isnan(values["growth"]) else values["growth"]
    if forecast_text and growth is not None:
        raise PageError(400, "give either a forecast or a growth on the history, not both")
    try:
        forecast = parse_forecast(forecast_text) if forecast_text else None
    except ValueError as exc:
        raise PageError(400, str(exc)) from None
    database: Database = request.app.state.db
    with database.session() as session:
        try:
            plan = plan_staffing(
                session,
                user.workspace_ids[0],
                utcnow(),
                weeks=int(values["weeks"]),
                target=values["target_percent"] / 100,
                within_seconds=values["within_minutes"] * 60,
                handle_seconds=None
                if math.isnan(values["handle_seconds"])
                else values["handle_seconds"],
                filters=Filters(channel=channel),
                forecast=forecast,
                growth=growth,
            )
        except ValueError as exc:
            raise PageError(400, str(exc)) from None
    shown = {k: "" if math.isnan(v) else f"{v:g}" for k, v in values.items()}
    return plan, {**shown, "channel": channel or "", "forecast": forecast_text}


def _grid(plan: StaffingPlan, field: str) -> list[list[Any]]:
    return [[getattr(h, field) for h in plan.hours[day * 24 : day * 24 + 24]] for day in range(7)]


@router.get("/reports/staffing", response_class=HTMLResponse)
def staffing_page(request: Request, user: PageUser) -> Response:
    plan, query = _plan(request, user)
    hours = [f"{h:02d}" for h in range(24)]
    needed = _grid(plan, "agents_needed")
    active = [[round(v, 1) for v in row] for row in _grid(plan, "agents_active")]
    arrivals = [[round(v, 1) for v in row] for row in _grid(plan, "arrivals_per_hour")]
    return render(
        request,
        "staffing.html",
        user,
        nav="reports",
        plan=plan,
        query=query,
        fields=FIELDS,
        hours=hours,
        weekdays=WEEKDAYS,
        tables=[
            ("needed", "Agents needed", needed),
            ("active", "Agents who answered (average)", active),
            ("arrivals", "Customer messages per hour (average)", arrivals),
        ],
        picture=charts.heatmap(
            WEEKDAYS,
            hours,
            needed,
            title="Agents needed by weekday and hour (workspace time)",
            unit="agents",
        ),
        export="/reports/staffing.csv?" + urlencode({k: v for k, v in query.items() if v}),
    )


@router.get("/reports/staffing.csv")
def staffing_csv(request: Request, user: PageUser) -> Response:
    plan, _ = _plan(request, user)
    rows = [h.as_json() for h in plan.hours]
    return Response(
        rows_csv(rows, list(rows[0])),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="socialdesk-staffing.csv"'},
    )
