"""Reports: the service metrics of a period (docs/reports.md), as JSON or CSV."""

from __future__ import annotations

from datetime import date as dt_date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from socialdesk.domain.enums import Role
from socialdesk.reports.canned_usage import canned_usage
from socialdesk.reports.digest import Digest, build_digest
from socialdesk.reports.overview import Filters, Overview, workspace_zone
from socialdesk.reports.period import PeriodError, parse_by, parse_period, rows_csv
from socialdesk.reports.rollups import fast_overview
from socialdesk.reports.staffing import parse_forecast
from socialdesk.reports.staffing_plan import StaffingPlan, plan_staffing
from socialdesk.store.db import utcnow
from socialdesk.store.models import User
from socialdesk.web.api.params import DbId
from socialdesk.web.deps import CurrentUser, ReadSession, require_role, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(prefix="/reports", tags=["reports"])
# Leads run the desk, admins own it; viewers may read reports, never change anything.
READERS = (Role.ADMIN, Role.LEAD, Role.VIEWER)

Text = Annotated[str | None, Query(max_length=64)]


def _workspace(session: Session, user: User, requested: int | None) -> int:
    allowed = workspace_ids(session, user)
    if requested is None:
        if not allowed:
            raise ApiError(403, "you are not a member of any workspace")
        return allowed[0]
    if requested not in allowed:
        raise ApiError(403, f"you are not a member of workspace {requested}")
    return requested


def build_overview(
    session: Session,
    user: User,
    *,
    since: str | None,
    until: str | None,
    by: str | None,
    workspace_id: int | None = None,
    filters: Filters | None = None,
) -> Overview:
    """The report a reader asked for; a period or grouping that cannot be read is a 422."""
    require_role(user, *READERS)
    workspace = _workspace(session, user, workspace_id)
    _, zone = workspace_zone(session, workspace)
    now = utcnow()
    try:
        start, end = parse_period(since, until, zone, now)
        group = parse_by(by)
    except PeriodError as exc:
        raise ApiError(422, str(exc)) from None
    return fast_overview(session, workspace, start, end, group, now, filters)


@router.get(
    "/overview",
    summary="Service metrics of a period, grouped by day, channel, account, team or agent",
    response_model=None,
)
def get_overview(
    session: ReadSession,
    user: CurrentUser,
    since: Text = None,
    until: Text = None,
    by: Text = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
    channel: Text = None,
    account_id: DbId | None = None,
    team_id: DbId | None = None,
    agent_id: DbId | None = None,
    workspace_id: DbId | None = None,
) -> Any:
    """`since` and `until` are dates (`2026-03-02`, local midnight in the workspace's time
    zone) or ISO 8601 times; the period is `[since, until)`, the last seven days by
    default. `by` is `day` (default), `channel`, `account`, `team`, `agent` or `none`.
    `format=csv` answers the same rows as CSV. Definitions: docs/reports.md."""
    report = build_overview(
        session,
        user,
        since=since,
        until=until,
        by=by,
        workspace_id=workspace_id,
        filters=Filters(channel, account_id, team_id, agent_id),
    )
    if format == "csv":
        name = f"socialdesk-{report.by}-{report.since.date()}-{report.until.date()}.csv"
        return Response(
            rows_csv(report.rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return report.as_json()


@router.get(
    "/staffing",
    summary="Agents needed in each hour of the week by Erlang C, from the last weeks' volume",
    response_model=None,
)
def get_staffing(
    session: ReadSession,
    user: CurrentUser,
    weeks: Annotated[int, Query(ge=1, le=26)] = 4,
    target: Annotated[float, Query(gt=0, lt=1)] = 0.8,
    within_seconds: Annotated[float, Query(ge=0, le=86_400)] = 900,
    handle_seconds: Annotated[float | None, Query(gt=0, le=28_800)] = None,
    forecast: Annotated[str | None, Query(max_length=4_000)] = None,
    growth: Annotated[float | None, Query(gt=0, le=10)] = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
    channel: Text = None,
    account_id: DbId | None = None,
    team_id: DbId | None = None,
    workspace_id: DbId | None = None,
) -> Any:
    """The 168 hours of the week (Monday 00:00 first, the workspace's time zone), each
    with the customer messages it had on average over the last `weeks` whole weeks, the
    agents needed to answer `target` of them within `within_seconds`, and the agents who
    actually answered in it. `handle_seconds` defaults to the mean measured in the window
    (logged contacts, replies carrying it), else 300. `forecast` replaces the history
    with 168 comma-separated arrivals per hour (Monday 00:00 first); `growth` multiplies
    the history instead ("+30%" is 1.3). `coverage` gives, per channel, the share of the
    weeks each hour was answered, its staffed hours and opening hours (24/7 or not).
    Definitions: docs/reports.md."""
    plan = build_staffing(
        session,
        user,
        weeks=weeks,
        target=target,
        within_seconds=within_seconds,
        handle_seconds=handle_seconds,
        workspace_id=workspace_id,
        filters=Filters(channel, account_id, team_id),
        forecast=forecast,
        growth=growth,
    )
    if format == "csv":
        rows = [hour.as_json() for hour in plan.hours]
        return Response(
            rows_csv(rows, list(rows[0])),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="socialdesk-staffing.csv"'},
        )
    return plan.as_json()


def build_staffing(
    session: Session,
    user: User,
    *,
    weeks: int,
    target: float,
    within_seconds: float,
    handle_seconds: float | None,
    workspace_id: int | None = None,
    filters: Filters | None = None,
    forecast: str | None = None,
    growth: float | None = None,
) -> StaffingPlan:
    require_role(user, *READERS)
    workspace = _workspace(session, user, workspace_id)
    if forecast is not None and growth is not None:
        raise ApiError(422, "give either a forecast or a growth on the history, not both")
    try:
        entered = parse_forecast(forecast) if forecast else None
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    try:
        return plan_staffing(
            session,
            workspace,
            utcnow(),
            weeks=weeks,
            target=target,
            within_seconds=within_seconds,
            handle_seconds=handle_seconds,
            filters=filters,
            forecast=entered,
            growth=growth,
        )
    except ValueError as exc:  # a workload no head count can serve
        raise ApiError(422, str(exc)) from None


@router.get("/canned", summary="The most used and the never used canned answers")
def get_canned_usage(
    session: ReadSession,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    workspace_id: DbId | None = None,
) -> dict[str, Any]:
    """All time (a running count, raised by each sent reply that names the canned answer
    it used): `most_used` (up to `limit`, most first) and `never_used` (oldest first)."""
    require_role(user, *READERS)
    usage = canned_usage(session, _workspace(session, user, workspace_id), limit)
    return {
        "total": usage.total,
        "most_used": [c.as_json() for c in usage.most_used],
        "never_used": [c.as_json() for c in usage.never_used],
    }


def build_digest_for(
    session: Session, user: User, day: str | None, workspace_id: int | None = None
) -> Digest:
    """The digest of ``day`` (local date, today when empty); a bad date is a 422."""
    require_role(user, *READERS)
    workspace = _workspace(session, user, workspace_id)
    _, zone = workspace_zone(session, workspace)
    now = utcnow()
    try:
        wanted = dt_date.fromisoformat(day.strip()) if day else now.astimezone(zone).date()
    except ValueError:
        raise ApiError(422, f"date must be a day such as 2026-03-02, not {day!r}") from None
    if wanted > now.astimezone(zone).date():
        raise ApiError(422, "date is in the future: nothing has been said yet")
    return build_digest(session, workspace, wanted, now)


@router.get(
    "/digest",
    summary="The daily digest: what customers said on a day, the slowest and breached "
    "tickets, topics, sentiment, promises due",
    response_model=None,
)
def get_digest(
    session: ReadSession,
    user: CurrentUser,
    date: Annotated[str | None, Query(max_length=10)] = None,
    workspace_id: DbId | None = None,
) -> dict[str, Any]:
    """`date` is a local day in the workspace's time zone (`2026-03-02`), today when
    left out (today's digest covers midnight to now)."""
    return build_digest_for(session, user, date, workspace_id).as_json()
