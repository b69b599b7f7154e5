"""The Reports page for the people who run the desk: a period and filters, the headline
numbers against the previous period, charts each with its table, and CSV downloads of
every table. The numbers are those of ``GET /api/v1/reports/overview``
(docs/reports.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.reports import breakdowns, charts
from socialdesk.reports.canned_usage import CannedUsage, canned_usage
from socialdesk.reports.metrics import GroupBy, Period, TicketFacts
from socialdesk.reports.overview import (
    Filters,
    group_labels,
    inbound_moments,
    load_facts,
    workspace_zone,
)
from socialdesk.reports.period import (
    PeriodError,
    parse_by,
    parse_period,
    previous_period,
    rows_csv,
)
from socialdesk.reports.rollups import fast_overview
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import ChannelAccount, Membership, Team, User
from socialdesk.web.api.params import parse_id
from socialdesk.web.pages.common import PageError, network, render
from socialdesk.web.sessions import PageUser, WebUser

router = APIRouter(include_in_schema=False)
READERS = ("admin", "lead", "viewer")
# Headline figures: (field, label, kind); kind says how to show it and which way is good.
HEADLINES = (
    ("opened", "Tickets opened", "count"),
    ("solved", "Solved", "count"),
    ("first_response_median_seconds", "Median first response", "duration"),
    ("response_rate_24h", "Answered within 24 h", "share"),
    ("resolution_median_seconds", "Median time to resolve", "duration"),
    ("csat_average", "CSAT", "score"),
    ("net_new_customers", "Net-new customers", "count"),
    ("peer_answers", "Peer answers", "count"),
)
OVERVIEW_COLUMNS = (
    ("label", "Key"),
    ("opened", "Opened"),
    ("solved", "Solved"),
    ("first_response_median_seconds", "1st response median (s)"),
    ("first_response_p90_seconds", "1st response p90 (s)"),
    ("resolution_median_seconds", "Resolution median (s)"),
    ("handle_median_seconds", "Handle median (s)"),
    ("response_rate_24h", "Answered < 24 h"),
    ("net_new_customers", "Net new"),
    ("peer_answers", "Peer answers"),
    ("csat_average", "CSAT"),
    ("csat_responses", "CSAT answers"),
)


@dataclass(slots=True)
class Table:
    """One chart's numbers, shown under it and downloadable as CSV."""

    title: str
    headers: list[str]
    rows: list[list[Any]]
    picture: Markup | None = None
    note: str = ""
    # How to show each column on the page ("duration", "share", "score", "" as is); the
    # CSV keeps the raw numbers.
    kinds: list[str] = field(default_factory=list)

    def cells(self, row: list[Any]) -> list[str]:
        kinds = self.kinds or [""] * len(row)
        return [
            shown(k, v) if k else ("—" if v is None else str(v))
            for k, v in zip(kinds, row, strict=True)
        ]

    def csv(self) -> str:
        records = [dict(zip(self.headers, row, strict=True)) for row in self.rows]
        return rows_csv(records, self.headers)


@dataclass(slots=True)
class Choices:
    channels: list[str] = field(default_factory=list)
    accounts: list[tuple[int, str]] = field(default_factory=list)
    teams: list[tuple[int, str]] = field(default_factory=list)
    agents: list[tuple[int, str]] = field(default_factory=list)


def _id(request: Request, name: str) -> int | None:
    text = request.query_params.get(name, "").strip()
    if not text:
        return None
    value = parse_id(text)
    if value is None:
        raise PageError(400, f"{name} must be a row id, not {text[:40]!r}")
    return value


def _query(request: Request) -> dict[str, str]:
    names = ("since", "until", "by", "channel", "account_id", "team_id", "agent_id")
    return {n: request.query_params.get(n, "")[:64] for n in names}


def _choices(session: Session, workspace_id: int) -> Choices:
    accounts = session.execute(
        select(ChannelAccount.id, ChannelAccount.handle, ChannelAccount.platform)
        .where(ChannelAccount.workspace_id == workspace_id)
        .order_by(ChannelAccount.handle)
    ).all()
    teams = session.execute(
        select(Team.id, Team.name).where(Team.workspace_id == workspace_id).order_by(Team.name)
    ).all()
    agents = session.execute(
        select(User.id, User.name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id, User.role != "viewer")
        .order_by(User.name, User.email)
    ).all()
    return Choices(
        sorted({p for _, _, p in accounts}),
        [(i, f"{h} ({network(p)[1]})") for i, h, p in accounts],
        [(i, n) for i, n in teams],
        [(i, n or e) for i, n, e in agents],
    )


def _duration(seconds: Any) -> str:
    if seconds is None:
        return "—"
    total = int(seconds)
    if total >= 86400:
        return f"{total / 86400:.1f} d"
    if total >= 3600:
        return f"{total // 3600} h {total % 3600 // 60:02d} m"
    return f"{total // 60} m {total % 60:02d} s"


def shown(kind: str, value: Any) -> str:
    if value is None:
        return "—"
    if kind == "duration":
        return _duration(value)
    if kind == "share":
        return f"{value * 100:.1f}%"
    if kind == "score":
        return f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _headlines(current: dict[str, Any], previous: dict[str, Any]) -> list[dict[str, Any]]:
    cards = []
    for name, label, kind in HEADLINES:
        delta = breakdowns.change(current.get(name), previous.get(name))
        # Shorter waits are better; more of everything else is.
        good = None if delta is None or delta == 0 else (delta < 0) == (kind == "duration")
        cards.append(
            {
                "field": name,
                "label": label,
                "value": shown(kind, current.get(name)),
                "previous": shown(kind, previous.get(name)),
                "change": None if delta is None else f"{delta:+.0%}",
                "good": good,
            }
        )
    return cards


@dataclass(slots=True)
class Report:
    period: Period
    timezone: str
    by: GroupBy
    tables: dict[str, Table]
    headlines: list[dict[str, Any]]
    previous: tuple[datetime, datetime]


def _load(request: Request, user: WebUser) -> tuple[Report, Choices]:
    if user.role not in READERS:
        raise PageError(403, "Reports are for leads, admins and viewers.")
    if not user.workspace_ids:
        raise PageError(403, "You are not a member of any workspace.")
    database: Database = request.app.state.db
    now = utcnow()
    workspace_id = user.workspace_ids[0]
    query = _query(request)
    filters = Filters(
        query["channel"] or None,
        _id(request, "account_id"),
        _id(request, "team_id"),
        _id(request, "agent_id"),
    )
    with database.session() as session:
        zone_name, zone = workspace_zone(session, workspace_id)
        try:
            since, until = parse_period(query["since"] or None, query["until"] or None, zone, now)
            by = parse_by(query["by"] or None)
        except PeriodError as exc:
            raise PageError(400, str(exc)) from None
        period = Period(since, until, zone)
        # The figures come from the daily rollups, as the API's do (the same numbers,
        # without folding the previous period's tickets); the charts below still fold
        # this period's tickets.
        main = fast_overview(session, workspace_id, since, until, by, now, filters)
        daily = (
            main
            if by == GroupBy.DAY
            else fast_overview(session, workspace_id, since, until, GroupBy.DAY, now, filters)
        )
        before = previous_period(since, until)
        previous_totals = fast_overview(
            session, workspace_id, *before, GroupBy.NONE, now, filters
        ).totals
        facts = [f for f in load_facts(session, workspace_id, since, until) if filters.keep(f)]
        responders = breakdowns.who_answered(facts, period)
        names = group_labels(
            session, GroupBy.AGENT, [str(r.user_id) for r in responders if r.user_id]
        )
        hours = breakdowns.weekday_hours(
            inbound_moments(session, workspace_id, since, until, filters), zone
        )
        choices = _choices(session, workspace_id)
        usage = canned_usage(session, workspace_id)
    tables = _tables(main, daily.rows, facts, period, responders, names, hours)
    tables.update(_canned_tables(usage))
    report = Report(period, zone_name, by, tables, _headlines(main.totals, previous_totals), before)
    return report, choices


def _tables(
    main: Any,
    daily_rows: list[dict[str, Any]],
    facts: list[TicketFacts],
    period: Period,
    responders: list[breakdowns.Responder],
    names: dict[str, str],
    hours: list[list[int]],
) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    overview_rows = [[row[f] for f, _ in OVERVIEW_COLUMNS] for row in main.rows]
    tables["overview"] = Table(
        f"Overview by {main.by}",
        [h for _, h in OVERVIEW_COLUMNS],
        overview_rows,
        kinds=[
            "duration" if f.endswith("_seconds") else "share" if f.endswith("_24h") else ""
            for f, _ in OVERVIEW_COLUMNS
        ],
    )
    per_channel = breakdowns.per_day_per_channel(facts, period)
    labels = [network(c)[1] for c in per_channel.channels]
    days = per_channel.days
    every = max(1, len(days) // 10)
    for name, counts, verb in (
        ("opened", per_channel.opened, "opened"),
        ("solved", per_channel.solved, "solved"),
    ):
        grid = [[counts[c][i] for c in per_channel.channels] for i in range(len(days))]
        tables[name] = Table(
            f"Tickets {verb} per day, by channel",
            ["Day", *labels],
            [[day, *row] for day, row in zip(days, grid, strict=True)],
            charts.stacked_columns(
                [d[5:] for d in days],
                grid,
                labels or ["tickets"],
                title=f"Tickets {verb} per day, by channel",
                label_every=every,
            ),
        )
    rate_rows = [
        [r["key"], r["answered_24h"], r["eligible_24h"], r["response_rate_24h"]] for r in daily_rows
    ]
    tables["rate"] = Table(
        "Answered within 24 hours, per day",
        ["Day", "Answered < 24 h", "Counted", "Share"],
        rate_rows,
        charts.stacked_columns(
            [r[0][5:] for r in rate_rows],
            [[round((r[3] or 0) * 100, 1)] for r in rate_rows],
            ["% answered within 24 h"],
            title="Share of tickets answered within 24 hours, per opening day (%)",
            label_every=every,
        ),
        "Days with nothing to count show no column.",
        ["", "", "", "share"],
    )
    in_period = [f for f in facts if period.holds(f.opened_at)]
    for name, title, values, bins in (
        (
            "first_response",
            "First response times",
            [s for f in in_period if (s := f.first_response_seconds) is not None],
            breakdowns.RESPONSE_BINS,
        ),
        (
            "resolution",
            "Times to resolve (opened → first solved)",
            [s for f in in_period if (s := f.resolution_seconds) is not None],
            breakdowns.RESOLUTION_BINS,
        ),
    ):
        bars = breakdowns.histogram(values, bins)
        tables[name] = Table(
            title,
            ["Within", "Tickets"],
            [[label, count] for label, count in bars],
            charts.stacked_columns(
                [label for label, _ in bars], [[c] for _, c in bars], ["tickets"], title=title
            ),
        )
    who_rows: list[list[Any]] = [
        [
            names.get(str(r.user_id), f"user {r.user_id}") if r.user_id else "Brand account",
            r.replies,
            r.tickets,
            r.first_responses,
            r.first_response_median_seconds,
        ]
        for r in responders
    ]
    tables["who"] = Table(
        "Who answered",
        ["Who", "Replies", "Tickets", "First responses", "Median first response (s)"],
        who_rows,
        charts.stacked_rows(
            [str(row[0]) for row in who_rows],
            [[float(row[1])] for row in who_rows],
            ["replies"],
            title="Replies per person",
        )
        if who_rows
        else None,
        "“Brand account” is a reply made on the network itself, outside the desk.",
        ["", "", "", "", "duration"],
    )
    hour_labels = [f"{h:02d}" for h in range(24)]
    tables["hours"] = Table(
        "Customer posts by weekday and hour",
        ["Weekday", *hour_labels],
        [[day, *row] for day, row in zip(breakdowns.WEEKDAYS, hours, strict=True)],
        charts.heatmap(
            breakdowns.WEEKDAYS,
            hour_labels,
            hours,
            title="Customer posts by weekday and hour (workspace time)",
        ),
    )
    return tables


def _canned_tables(usage: CannedUsage) -> dict[str, Table]:
    most: list[list[Any]] = [
        [f"/{c.shortcut}", c.title, c.category, c.usage_count] for c in usage.most_used
    ]
    return {
        "canned_most": Table(
            "Most used canned answers (all time)",
            ["Shortcut", "Title", "Category", "Replies sent with it"],
            most,
            charts.stacked_rows(
                [f"/{c.shortcut}" for c in usage.most_used],
                [[float(c.usage_count)] for c in usage.most_used], ["replies"],
                title="Replies sent with each canned answer",
            )
            if most
            else None,
        ),
        "canned_never": Table(
            "Canned answers never used",
            ["Shortcut", "Title", "Category", "Created"],
            [
                [f"/{c.shortcut}", c.title, c.category, c.created_at.date().isoformat()]
                for c in usage.never_used
            ],
            note="Candidates to rewrite or delete (Settings → Canned responses).",
        ),
    }  # fmt: skip


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, user: PageUser) -> Response:
    report, choices = _load(request, user)
    query = _query(request)
    return render(
        request,
        "reports.html",
        user,
        nav="reports",
        report=report,
        choices=choices,
        query=query,
        since_day=report.period.since.astimezone(report.period.zone).date().isoformat(),
        last_day=(report.period.until.astimezone(report.period.zone) - timedelta(seconds=1))
        .date()
        .isoformat(),
        groupings=[str(g) for g in GroupBy],
        exports={
            name: "/reports/export.csv?"
            + urlencode({**{k: v for k, v in query.items() if v}, "table": name})
            for name in report.tables
        },
        presets=_presets(report),
    )


def _presets(report: Report) -> list[tuple[str, str]]:
    """Quick periods: the last 7 and 30 days, and the period before this one."""
    zone = report.period.zone
    today = utcnow().astimezone(zone).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    before_since, before_until = report.previous
    return [
        (
            "Last 7 days",
            urlencode(
                {
                    "since": (today - timedelta(days=6)).isoformat(),
                    "until": tomorrow,
                    "by": report.by,
                }
            ),
        ),
        (
            "Last 30 days",
            urlencode(
                {
                    "since": (today - timedelta(days=29)).isoformat(),
                    "until": tomorrow,
                    "by": report.by,
                }
            ),
        ),
        (
            "Previous period",
            urlencode(
                {
                    "since": before_since.astimezone(zone).isoformat(),
                    "until": before_until.astimezone(zone).isoformat(),
                    "by": report.by,
                }
            ),
        ),
    ]


@router.get("/reports/export.csv")
def reports_csv(request: Request, user: PageUser) -> Response:
    report, _ = _load(request, user)
    name = request.query_params.get("table", "overview")
    table = report.tables.get(name)
    if table is None:
        raise PageError(400, f"table must be one of {', '.join(report.tables)}")
    day = report.period.since.date().isoformat()
    return Response(
        table.csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="socialdesk-{name}-{day}.csv"'},
    )
