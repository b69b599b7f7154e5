"""The Reports page over HTTP: who may open it, the numbers it shows, its CSV exports
and bad input refused with a reason."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from socialdesk.store.db import Database
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_pages import app_db, client, sign_in

__all__ = ["app_db", "client"]
PERIOD = "since=2017-10-31&until=2017-11-02"


def seed(db: Database) -> None:
    x = make_account(db)
    ingest(
        db,
        post(x, "1", "@AcmeSupport my parcel is lost", author="a1"),
        post(x, "2", "Sorry! DM us", outbound=True, reply_to="1", minutes=3),
        post(x, "3", "@AcmeSupport app crashes", author="a2", minutes=10),
    )


def test_a_lead_sees_headlines_tables_and_exports(client: TestClient, app_db: Database) -> None:
    seed(app_db)
    sign_in(client, "lead@example.com")
    page = client.get(f"/reports?{PERIOD}&by=account")
    assert page.status_code == 200
    assert 'data-field="opened"' in page.text
    assert '<a href="/reports" aria-current="page">Reports</a>' in page.text
    assert "AcmeSupport" in page.text and "3 m 00 s" in page.text
    exported = client.get(f"/reports/export.csv?{PERIOD}&by=account&table=overview")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["Key"], r["Opened"], r["1st response median (s)"]) for r in rows] == [
        ("AcmeSupport", "2", "180")
    ]
    hours = client.get(f"/reports/export.csv?{PERIOD}&table=hours")
    assert hours.text.splitlines()[0].startswith("Weekday,00,01")
    assert client.get(f"/reports/export.csv?{PERIOD}&table=nope").status_code == 400


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("by=week", "by must be one of"),
        ("since=tomorrow", "since must be a date"),
        ("account_id=abc", "account_id must be a row id"),
        ("agent_id=99999999999999999999", "agent_id must be a row id"),
    ],
)
def test_bad_input_is_a_400_with_its_reason(client: TestClient, query: str, reason: str) -> None:
    sign_in(client, "lead@example.com")
    r = client.get(f"/reports?{query}")
    assert r.status_code == 400
    assert reason in r.text


@pytest.mark.parametrize(
    ("email", "status"), [("viewer@example.com", 200), ("agent@example.com", 403)]
)
def test_who_may_open_reports(client: TestClient, email: str, status: int) -> None:
    sign_in(client, email)
    assert client.get("/reports").status_code == status
    assert client.get("/reports/export.csv").status_code == status
