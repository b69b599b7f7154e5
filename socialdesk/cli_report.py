"""``socialdesk report``: the overview report (docs/reports.md) in the terminal, or as
CSV with ``--csv``. The same rows as ``GET /api/v1/reports/overview``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from socialdesk.cli_common import console, fail
from socialdesk.config import get_settings
from socialdesk.store.db import Database

# The columns that fit a terminal; --csv writes every field.
SHOWN = (
    ("label", "key"),
    ("opened", "opened"),
    ("solved", "solved"),
    ("first_response_median_seconds", "1st resp. median"),
    ("first_response_p90_seconds", "1st resp. p90"),
    ("resolution_median_seconds", "resolution median"),
    ("response_rate_24h", "answered <24 h"),
    ("net_new_customers", "net new"),
    ("peer_answers", "peer"),
    ("csat_average", "CSAT"),
    ("csat_responses", "CSAT n"),
)


def duration(seconds: Any) -> str:
    """``3h 05m`` for people; the CSV keeps seconds."""
    if seconds is None:
        return "-"
    total = int(seconds)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def cell(field: str, value: Any) -> str:
    if value is None:
        return "-"
    if field.endswith("_seconds"):
        return duration(value)
    if field == "response_rate_24h":
        return f"{value * 100:.1f}%"
    return str(value)


def report(
    since: Annotated[
        str | None, typer.Option(help="first day (2026-03-02) or ISO time; default 7 days ago")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="day after the last (excluded); default tomorrow")
    ] = None,
    by: Annotated[str, typer.Option(help="day, channel, account, team, agent or none")] = "day",
    workspace: Annotated[str, typer.Option(help="workspace slug")] = "default",
    csv: Annotated[
        Path | None, typer.Option("--csv", help="also write every field of the rows here")
    ] = None,
) -> None:
    """Service metrics of a period (opened, solved, first response, response rate within
    24 h, net-new customers, CSAT...), one row per day, channel, account, team or agent."""
    from sqlalchemy import select

    from socialdesk.reports.overview import workspace_zone
    from socialdesk.reports.period import PeriodError, parse_by, parse_period, rows_csv
    from socialdesk.reports.rollups import fast_overview
    from socialdesk.store.db import utcnow
    from socialdesk.store.models import Workspace

    db = Database(get_settings().database_url)
    now = utcnow()
    with db.session() as session:
        workspace_id = session.scalar(select(Workspace.id).where(Workspace.slug == workspace))
        if workspace_id is None:
            raise fail(f"no workspace {workspace!r}")
        _, zone = workspace_zone(session, workspace_id)
        try:
            start, end = parse_period(since, until, zone, now)
            group = parse_by(by)
        except PeriodError as exc:
            raise fail(str(exc)) from None
        result = fast_overview(session, workspace_id, start, end, group, now)
    table = Table(
        title=f"{workspace}: {start.isoformat()} → {end.isoformat()} ({result.timezone}), "
        f"by {result.by}"
    )
    for field, heading in SHOWN:
        table.add_column(heading, justify="left" if field == "label" else "right")
    for row in result.rows:
        table.add_row(*(cell(field, row[field]) for field, _ in SHOWN))
    table.add_section()
    table.add_row(*(cell(field, result.totals[field]) for field, _ in SHOWN), style="bold")
    console.print(table)
    if csv is not None:
        try:
            csv.write_text(rows_csv(result.rows), encoding="utf-8")
        except OSError as exc:
            raise fail(f"cannot write {csv}: {exc.strerror}") from exc
        console.print(f"wrote {len(result.rows)} rows to {csv}")
