"""GET /api/v1/reports/staffing over HTTP on the real database: the last weeks' hourly
volume, the handle time measured or given, agents needed by Erlang C."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, timedelta
from urllib.parse import urlencode

from sqlalchemy import select

from socialdesk.reports.staffing import agents_needed, history_window
from socialdesk.store.db import utcnow
from socialdesk.store.models import TicketEvent
from tests.api.doors import Desk, desk_fixture
from tests.pipeline.helpers import ingest, post

__all__ = ["desk_fixture"]


def _seed_weekly_hour(desk: Desk, weeks: int, per_hour: int) -> tuple[int, int]:
    """``per_hour`` customer posts in the same hour of the week in each of the last
    ``weeks`` weeks; that hour's (weekday, hour) in UTC, the workspace's zone."""
    since, _ = history_window(utcnow(), weeks)
    slot_start = since + timedelta(days=1, hours=3)
    posts = [
        replace(
            post(desk.account_id, f"w{w}m{m}", f"order {w}-{m} is late", author=f"c{w}-{m}"),
            created_at=slot_start + timedelta(weeks=w, minutes=m * 2),
        )
        for w in range(weeks)
        for m in range(per_hour)
    ]
    ingest(desk.db, *posts)
    return slot_start.weekday(), slot_start.hour


def test_agents_needed_per_hour_of_the_week(desk: Desk) -> None:
    weekday, hour = _seed_weekly_hour(desk, weeks=2, per_hour=20)
    params = {"weeks": 2, "target": 0.8, "within_seconds": 900}
    with desk.api("lead") as api:
        r = api.get("/reports/staffing", params={**params, "handle_seconds": 600})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["handle_seconds"], body["handle_seconds_source"]) == (600, "parameter")
        assert len(body["hours"]) == 168
        slot = body["hours"][weekday * 24 + hour]
        assert (slot["weekday"], slot["hour"], slot["arrivals_per_hour"]) == (weekday, hour, 20)
        # 20 an hour at 10 minutes each: 3.33 erlangs; 80% within 15 minutes.
        assert slot["agents_needed"] == agents_needed(20, 600, 0.8, 900) == 5
        assert slot["service_level"] >= 0.8
        assert body["peak_agents"] == 5
        assert body["agent_hours_per_week"] == 5
        others = [h for h in body["hours"] if (h["weekday"], h["hour"]) != (weekday, hour)]
        assert all(h["agents_needed"] == 0 for h in others)

        # No handle time given and none measured: the documented default.
        assert api.get("/reports/staffing", params=params).json()["handle_seconds_source"] == (
            "default"
        )
        # A logged contact measured one: the plan uses it.
        logged = api.post(
            "/tickets",
            json={
                "channel": "phone",
                "summary": "asked about the late order",
                "handle_seconds": 450,
                "started_at": (utcnow() - timedelta(hours=3)).isoformat(),
            },
        )
        assert logged.status_code == 201, logged.text
        measured = api.get("/reports/staffing", params=params).json()
        assert (measured["handle_seconds"], measured["handle_seconds_source"]) == (
            450,
            "measured",
        )
        assert measured["handle_measurements"] == 1

        # Only the channel asked for: the posts were on X, none by phone.
        phone_only = api.get("/reports/staffing", params={**params, "channel": "phone"}).json()
        assert phone_only["peak_agents"] == 0

        table = api.get("/reports/staffing", params={**params, "format": "csv"})
        assert table.status_code == 200
        rows = list(csv.DictReader(io.StringIO(table.text)))
        assert len(rows) == 168 and rows[weekday * 24 + hour]["arrivals_per_hour"] == "20.0"


def test_an_entered_forecast_or_a_growth_replaces_the_history(desk: Desk) -> None:
    weekday, hour = _seed_weekly_hour(desk, weeks=2, per_hour=20)
    params = {"weeks": 2, "target": 0.8, "within_seconds": 900, "handle_seconds": 600}
    forecast = ["0"] * 168
    forecast[2 * 24 + 10] = "40"  # Wednesday 10:00: a campaign
    with desk.api("lead") as api:
        grown = api.get("/reports/staffing", params={**params, "growth": 1.5}).json()
        assert grown["arrivals_source"] == "history x 1.5"
        assert grown["hours"][weekday * 24 + hour]["arrivals_per_hour"] == 30
        planned = api.get("/reports/staffing", params={**params, "forecast": ",".join(forecast)})
        assert planned.status_code == 200, planned.text
        body = planned.json()
        assert body["arrivals_source"] == "forecast"
        assert body["hours"][2 * 24 + 10]["arrivals_per_hour"] == 40
        assert body["hours"][2 * 24 + 10]["agents_needed"] == agents_needed(40, 600, 0.8, 900)
        assert body["hours"][weekday * 24 + hour]["arrivals_per_hour"] == 0  # not the history
        short = api.get("/reports/staffing", params={"forecast": "1,2,3"})
        assert short.status_code == 422 and "168 hourly values" in short.text
        both = api.get("/reports/staffing", params={"forecast": ",".join(forecast), "growth": 2})
        assert both.status_code == 422 and "either a forecast or a growth" in both.text
    page = desk.page("lead")  # the page reads the same forecast
    shown = page.get("/reports/staffing?" + urlencode({"forecast": ",".join(forecast)}))
    assert shown.status_code == 200 and 'data-arrivals-source="forecast"' in shown.text
    refused = page.get("/reports/staffing?forecast=1,2")
    assert refused.status_code == 400 and "168 hourly values" in refused.text
    page.client.close()


def test_coverage_shows_when_each_channel_was_answered(desk: Desk) -> None:
    _seed_weekly_hour(desk, weeks=1, per_hour=2)
    with desk.api("agent") as api:
        tickets = api.get("/tickets").json()["data"]
        for ticket in tickets:
            sent = api.post(f"/tickets/{ticket['id']}/replies", json={"body": "On it, sorry!"})
            assert sent.status_code in (201, 202), sent.text
    # The plan reads whole hours before now: move the answers an hour into the past.
    with desk.db.write() as s:
        replied = list(s.scalars(select(TicketEvent).where(TicketEvent.kind == "replied")))
        for event in replied:
            event.created_at -= timedelta(hours=1)
    assert len(replied) == len(tickets)
    now = utcnow() - timedelta(hours=1)
    with desk.api("lead") as api:
        body = api.get("/reports/staffing", params={"weeks": 1}).json()
    coverage = {c["channel"]: c for c in body["coverage"]}
    assert set(coverage) == {"x"}
    x = coverage["x"]
    assert x["staffed_hours_per_week"] == 1 and x["round_the_clock"] is False
    local = now.astimezone(UTC)  # the test workspace's zone is UTC
    assert x["answered_share"][local.weekday() * 24 + local.hour] == 1.0
    assert x["opening_hours"] == [
        f"{('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[local.weekday()]} "
        f"{local.hour:02d}:00-{local.hour + 1:02d}:00"
    ]


def test_staffing_refuses_bad_input_and_agents(desk: Desk) -> None:
    with desk.api("lead") as api:
        for bad in ({"target": 1.5}, {"weeks": 0}, {"within_seconds": -1}, {"handle_seconds": 0}):
            r = api.get("/reports/staffing", params=bad)
            assert r.status_code == 422, (bad, r.text)
    with desk.api("viewer") as api:
        assert api.get("/reports/staffing").status_code == 200
    with desk.api("agent") as api:
        assert api.get("/reports/staffing").status_code == 403
