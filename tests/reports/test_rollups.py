"""Rollup-based overviews equal the ones folded from raw events: real twcs data
replayed, closed days folded by the periodic pass, every grouping and a filter asked
over HTTP and compared with ``overview.overview`` (the raw fold) in the same moment;
then a ticket changes and the rollup of its opening day must stop being used."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pytest
from rich.progress import Progress
from sqlalchemy import func, select, update

from socialdesk.bench.reports import seed_year
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.replay.service import replay_twcs
from socialdesk.reports.metrics import GroupBy
from socialdesk.reports.overview import Filters, overview, workspace_zone
from socialdesk.reports.period import parse_period
from socialdesk.reports.rollup_stats import ARRAYS, COUNTS, GroupStats, summary
from socialdesk.reports.rollups import _rollup_days, changed_days, fast_overview, materialise
from socialdesk.reports.worker import ReportsWorker
from socialdesk.store.db import utcnow
from socialdesk.store.models import (
    ReportRollup,
    ReportRollupDay,
    ReportRollupState,
    Ticket,
    Workspace,
)
from tests.api.conftest import Api

ZONE = ZoneInfo("America/New_York")


def _raw(api: Api, params: dict[str, str], filters: Filters | None = None) -> dict[str, Any]:
    with api.db.session() as s:
        workspace_id = s.scalar(select(Workspace.id))
        assert workspace_id is not None
        since, until = parse_period(params["since"], params["until"], ZONE, utcnow())
        result = overview(s, workspace_id, since, until, GroupBy(params["by"]), utcnow(), filters)
        return result.as_json()


def _same(api: Api, client: httpx.Client, params: dict[str, str], **filters: Any) -> None:
    response = client.get("/reports/overview", params={**params, **filters})
    assert response.status_code == 200, response.text
    expected = _raw(api, params, Filters(**filters))
    assert response.json()["rows"] == expected["rows"]
    assert response.json()["totals"] == expected["totals"]


@pytest.fixture
def replayed(api: Api, shared_data: Path) -> tuple[date, date]:
    replay_twcs(api.db, shared_data / "twcs" / "twcs_head_5000.csv", pipeline=Pipeline())
    with api.db.write() as s:
        s.execute(update(Workspace).values(settings={"timezone": "America/New_York"}))
        first, last = s.execute(
            select(func.min(Ticket.first_message_at), func.max(Ticket.first_message_at))
        ).one()
    return first.astimezone(ZONE).date(), last.astimezone(ZONE).date()


def test_rollups_answer_exactly_what_raw_events_do(
    api: Api, admin: httpx.Client, replayed: tuple[date, date]
) -> None:
    first, last = replayed
    folded = ReportsWorker(api.db).run_once()
    today = utcnow().astimezone(ZONE).date()
    with api.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ReportRollup)) > 10
        earliest = s.scalar(select(func.min(ReportRollupDay.day)))
        assert earliest is not None and earliest <= first
        # Every closed day from the first event to yesterday has its marker, once.
        assert folded == (today - earliest).days
        assert s.scalar(select(func.count()).select_from(ReportRollupDay)) == folded
    assert ReportsWorker(api.db).run_once() == 0
    whole = {"since": first.isoformat(), "until": (last + timedelta(days=1)).isoformat()}
    # The open edges: a period starting and ending inside days reads those parts raw.
    edges = {"since": f"{first.isoformat()}T13:30:00", "until": f"{last.isoformat()}T09:15:00"}
    for period in (whole, edges):
        for by in ("day", "channel", "account", "team", "agent", "none"):
            _same(api, admin, {**period, "by": by})
    accounts = admin.get("/reports/overview", params={**whole, "by": "account"}).json()
    busiest = max(accounts["rows"], key=lambda r: r["opened"])
    assert busiest["opened"] > 50 and busiest["first_response_median_seconds"] is not None
    _same(api, admin, {**whole, "by": "day"}, account_id=int(busiest["key"]))

    # A ticket opened on a folded day is solved now: its opening day's rollup no longer
    # holds its resolution, so that day is read raw until the next pass folds it again.
    with api.db.session() as s:
        ticket_id, opened = s.execute(
            select(Ticket.id, Ticket.first_message_at)
            .where(Ticket.status != "solved")
            .order_by(Ticket.id)
            .limit(1)
        ).one()
        before = s.scalar(select(func.max(ReportRollupDay.computed_at)))
    solved = admin.patch(f"/tickets/{ticket_id}", json={"status": "solved"})
    assert solved.status_code == 200, solved.text
    with api.db.session() as s:
        workspace_id = s.scalar(select(Workspace.id))
        assert workspace_id is not None
        state = s.get(ReportRollupState, workspace_id)
        assert state is not None
        changed = changed_days(s, workspace_id, state.last_event_id, ZONE)
        assert opened.astimezone(ZONE).date() in changed
    _same(api, admin, {**whole, "by": "none"})
    _same(api, admin, {**whole, "by": "day"})
    # Only the days that ticket (or another of its customer's) is counted on fold again.
    assert materialise(api.db) == len(changed - {utcnow().astimezone(ZONE).date()}) < 5
    with api.db.session() as s:
        assert s.scalar(select(func.max(ReportRollupDay.computed_at))) > before
    _same(api, admin, {**whole, "by": "none"})


@pytest.mark.parametrize(
    ("first", "p90", "median"),
    [
        ([], None, None),
        ([7.0], 7, 7),
        ([1.0, 2.0], 2, 2),  # (1 + 2) / 2 = 1.5 rounds to even: 2
        ([3.0, 1.0, 2.0, 10.0], 10, 2),
        ([float(n) for n in range(1, 11)], 9, 6),  # 5.5 → 6; p90 of ten is the ninth
    ],
)
def test_summary_of_packed_values(first: list[float], p90: int | None, median: int | None) -> None:
    stats = GroupStats()
    if first:
        stats.chunks["first"].append(np.asarray(first))
    stats.counts["opened"] = len(first)
    columns = stats.columns()
    again = GroupStats.from_columns(
        [columns[name] for name in COUNTS],
        {name: [columns[f"{name}_values"][:8], columns[f"{name}_values"][8:]] for name in ARRAYS},
    )
    row = summary("k", "k", again)
    assert row["first_response_p90_seconds"] == p90
    assert row["first_response_median_seconds"] == median
    assert row["responded"] == len(first)


def test_a_folded_day_counts_its_unanswered_tickets_once_their_24_hours_pass(api: Api) -> None:
    """Tickets of a folded day still inside their first 24 hours, unanswered, start to
    count for the response rate as time passes, with no event and no new fold: the day
    keeps being read from its rollup, and equals the raw fold at every later moment."""
    folded_at = utcnow().replace(hour=6, minute=0, second=0, microsecond=0)
    since = folded_at.replace(hour=0) - timedelta(days=3)
    with Progress(disable=True) as progress:
        workspace_id = seed_year(api.db, 400, since, folded_at, progress)
    materialise(api.db, folded_at)
    yesterday = (folded_at - timedelta(days=1)).date()
    until = folded_at.replace(hour=0) + timedelta(days=3)
    eligible = []
    for later in (timedelta(hours=1), timedelta(hours=12), timedelta(hours=30)):
        moment = folded_at + later
        with api.db.session() as s:
            _, zone = workspace_zone(s, workspace_id)
            assert yesterday in _rollup_days(s, workspace_id, [yesterday], zone, moment)
            for by in (GroupBy.DAY, GroupBy.CHANNEL, GroupBy.NONE):
                fast = fast_overview(s, workspace_id, since, until, by, moment).as_json()
                raw = overview(s, workspace_id, since, until, by, moment).as_json()
                assert fast["rows"] == raw["rows"], (later, by)
                assert fast["totals"] == raw["totals"], (later, by)
            day_rows = fast_overview(s, workspace_id, since, until, GroupBy.DAY, moment).rows
            eligible.append(next(r for r in day_rows if r["key"] == yesterday.isoformat()))
    # Yesterday's unanswered tickets joined the rate as their 24 hours passed.
    assert eligible[0]["eligible_24h"] < eligible[2]["eligible_24h"]
    assert eligible[0]["answered_24h"] == eligible[2]["answered_24h"]
