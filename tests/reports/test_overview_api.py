"""GET /api/v1/reports/overview through HTTP on the real database (SQLite or PostgreSQL)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.domain.enums import Platform, Role
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.peer_answer_step import PeerAnswerStep
from socialdesk.store.db import utcnow
from socialdesk.store.models import Ticket, Workspace
from tests.api.conftest import PASSWORD, Api
from tests.pipeline.helpers import ingest, make_account, post


@pytest.fixture
def lead(api: Api) -> Iterator[httpx.Client]:
    with api.db.write() as s:
        workspace = ensure_workspace(s)
        create_user(s, "lead@example.com", PASSWORD, Role.LEAD, name="Lea", workspace=workspace)
    with api.client(api.token("lead@example.com")) as c:
        yield c


def _seed_2017(api: Api) -> tuple[int, int]:
    """Four tickets around T0 (2017-10-31 22:10 UTC) in a Tokyo workspace."""
    with api.db.write() as s:
        s.execute(update(Workspace).values(settings={"timezone": "Asia/Tokyo"}))
    x = make_account(api.db)
    fb = make_account(api.db, Platform.FACEBOOK, "AcmePage")
    day = 24 * 60
    ingest(
        api.db,
        post(x, "1", "@AcmeSupport my parcel is lost", author="a1"),
        # A fan's answer (pipeline/peer_answer_step.py records it: the peer_answers figure).
        post(
            x,
            "9",
            "you can file a lost parcel claim on the tracking page, worked for me",
            author="a9",
            reply_to="1",
            minutes=2,
        ),
        post(x, "2", "Sorry! DM us the order number", outbound=True, reply_to="1", minutes=3),
        post(x, "3", "@AcmeSupport app crashes on login", author="a2", minutes=10),
        post(x, "4", "Which version?", outbound=True, reply_to="3", minutes=70),
        post(x, "5", "@AcmeSupport refund please", author="a3", minutes=20),
        post(fb, "6", "anyone there?", author="b1", minutes=day, platform=Platform.FACEBOOK),
        post(
            fb,
            "7",
            "Sorry for the wait",
            outbound=True,
            reply_to="6",
            minutes=day + 30 * 60,
            platform=Platform.FACEBOOK,
        ),
        pipeline=Pipeline(steps=[PeerAnswerStep()]),
    )
    return x, fb


PERIOD = {"since": "2017-10-31", "until": "2017-11-03"}


def test_overview_by_day_in_the_workspace_time_zone(api: Api, lead: httpx.Client) -> None:
    _seed_2017(api)
    r = lead.get("/reports/overview", params={**PERIOD, "by": "day"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["timezone"] == "Asia/Tokyo"
    rows = {row["key"]: row for row in body["rows"]}
    assert list(rows) == ["2017-10-31", "2017-11-01", "2017-11-02"]
    # 22:10 UTC on 31 October is 07:10 on 1 November in Tokyo.
    assert [rows[d]["opened"] for d in rows] == [0, 3, 1]
    assert rows["2017-11-01"]["first_response_median_seconds"] == (180 + 3600) / 2
    assert rows["2017-11-01"]["peer_answers"] == 1
    assert rows["2017-11-02"]["response_rate_24h"] == 0.0  # answered after 30 hours
    totals = body["totals"]
    assert totals["opened"] == 4
    assert totals["responded"] == 3
    assert totals["first_response_median_seconds"] == 3600
    assert totals["first_response_p90_seconds"] == 30 * 3600
    assert (totals["answered_24h"], totals["eligible_24h"]) == (2, 4)
    assert totals["response_rate_24h"] == 0.5
    assert totals["net_new_customers"] == 4
    assert totals["solved"] == 0 and totals["csat_average"] is None
    for field in ("key", "opened", "solved", "resolution_median_seconds", "csat_responses"):
        assert field in body["rows"][0] and field in totals


def test_overview_by_channel_account_none_and_filters(api: Api, lead: httpx.Client) -> None:
    x, _ = _seed_2017(api)
    channel = lead.get("/reports/overview", params={**PERIOD, "by": "channel"}).json()
    assert [(r["key"], r["opened"]) for r in channel["rows"]] == [("facebook", 1), ("x", 3)]
    account = lead.get("/reports/overview", params={**PERIOD, "by": "account"}).json()
    assert [(r["label"], r["opened"]) for r in account["rows"]] == [
        ("AcmePage", 1),
        ("AcmeSupport", 3),
    ]
    assert account["rows"][1]["key"] == str(x)
    whole = lead.get("/reports/overview", params={**PERIOD, "by": "none"}).json()
    assert [(r["key"], r["opened"]) for r in whole["rows"]] == [("all", 4)]
    only_x = lead.get("/reports/overview", params={**PERIOD, "by": "none", "account_id": x}).json()
    assert only_x["totals"]["opened"] == 3
    assert only_x["totals"]["response_rate_24h"] == round(2 / 3, 4)
    fb = lead.get("/reports/overview", params={**PERIOD, "channel": "facebook"}).json()
    assert fb["totals"]["opened"] == 1


def test_overview_as_csv(api: Api, lead: httpx.Client) -> None:
    _seed_2017(api)
    r = lead.get("/reports/overview", params={**PERIOD, "by": "account", "format": "csv"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    opened = [(row["label"], row["opened"]) for row in rows]
    assert opened == [("AcmePage", "1"), ("AcmeSupport", "3")]
    assert rows[0]["csat_average"] == ""  # nothing to measure is empty, not 0


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"by": "week"}, "by must be one of day, channel, account, team, agent, none"),
        ({"since": "yesterday"}, "since must be a date"),
        ({"since": "2017-11-03", "until": "2017-11-01"}, "since must be before until"),
        ({"since": "2010-01-01", "until": "2017-01-01"}, "at most 732 days"),
        ({"until": "0001-01-01T00:00:00"}, "between the years"),
        ({"format": "xml"}, "format"),
        ({"account_id": "99999999999999999999"}, "account_id"),
        ({"since": "x" * 65}, "since"),
    ],
)
def test_bad_input_is_a_422_with_its_reason(
    lead: httpx.Client, params: dict[str, str], reason: str
) -> None:
    r = lead.get("/reports/overview", params=params)
    assert r.status_code == 422, r.text
    assert reason in r.json()["error"]["reason"]


def test_who_may_read_reports(api: Api, admin: httpx.Client, agent: httpx.Client) -> None:
    assert admin.get("/reports/overview").status_code == 200
    assert agent.get("/reports/overview").status_code == 403
    with api.client(api.token("viewer@example.com")) as viewer:
        assert viewer.get("/reports/overview").status_code == 200
    with api.client() as anonymous:
        assert anonymous.get("/reports/overview").status_code == 401
    assert admin.get("/reports/overview", params={"workspace_id": 999}).status_code == 403


def test_agents_work_shows_by_agent_with_solves_and_csat(
    api: Api, agent: httpx.Client, lead: httpx.Client
) -> None:
    account = make_account(api.db)
    opened = (utcnow() - timedelta(hours=2)).replace(microsecond=0)
    message = post(account, "100", "@AcmeSupport where is my order?", author="c1")
    ingest(api.db, replace(message, created_at=opened))
    with api.db.session() as s:
        tid = s.scalar(select(Ticket.id))
    me = agent.get("/me").json()
    assert agent.post(f"/tickets/{tid}/replies", json={"body": "On its way!"}).status_code == 201
    assert agent.post(f"/tickets/{tid}/notes", json={"body": "tracking sent"}).status_code == 201
    assert agent.patch(f"/tickets/{tid}", json={"assignee_id": me["id"]}).status_code == 200
    assert agent.patch(f"/tickets/{tid}", json={"status": "solved"}).status_code == 200
    assert agent.post(f"/tickets/{tid}/csat", json={"score": 4}).status_code == 201

    body = lead.get("/reports/overview", params={"by": "agent"}).json()
    assert [(r["key"], r["label"]) for r in body["rows"]] == [(str(me["id"]), "Agent")]
    row = body["rows"][0]
    assert (row["opened"], row["solved"], row["csat_responses"], row["csat_average"]) == (
        1,
        1,
        1,
        4.0,
    )
    assert 7200 <= row["first_response_median_seconds"] < 7200 + 120
    assert row["resolution_median_seconds"] >= row["first_response_median_seconds"]
    assert (row["notes"], row["touches_average"], row["replies_per_ticket"]) == (1, 1.0, 1.0)
    assert row["response_rate_24h"] == 1.0
    by_team = lead.get("/reports/overview", params={"by": "team"}).json()
    assert [(r["key"], r["label"]) for r in by_team["rows"]] == [("", "(no team)")]
