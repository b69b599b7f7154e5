"""The Reports page's Staffing tab over HTTP: the plan from history, its tables, the CSV,
who may open it and bad input refused with a reason."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from socialdesk.reports.staffing import history_window
from socialdesk.store.db import Database, utcnow
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_pages import app_db, client, sign_in

__all__ = ["app_db", "client"]


def test_a_lead_plans_the_week(client: TestClient, app_db: Database) -> None:
    account = make_account(app_db)
    since, _ = history_window(utcnow(), 1)
    slot = since + timedelta(hours=5)
    ingest(
        app_db,
        *[
            replace(post(account, f"s{i}", f"help {i}", author=f"c{i}"), created_at=slot)
            for i in range(12)
        ],
    )
    sign_in(client, "lead@example.com")
    assert '<a href="/reports/staffing">Staffing</a>' in client.get("/reports").text
    query = "weeks=1&target_percent=80&within_minutes=15&handle_seconds=600"
    page = client.get(f"/reports/staffing?{query}")
    assert page.status_code == 200, page.text
    assert 'data-handle-source="parameter"' in page.text
    assert 'data-table="staffing-needed"' in page.text and "<svg" in page.text
    # 12 an hour at 10 minutes: 2 erlangs; 80% within 15 minutes takes 3 agents.
    assert '<li class="headline" data-field="peak_agents">' in page.text
    assert '<strong class="headline-value">3</strong>' in page.text
    exported = client.get(f"/reports/staffing.csv?{query}")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    busy = rows[slot.weekday() * 24 + slot.hour]
    assert (busy["arrivals_per_hour"], busy["agents_needed"]) == ("12.0", "3")
    default = client.get("/reports/staffing")
    assert 'data-handle-source="default"' in default.text


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("weeks=0", "weeks must be a number from 1 to 26"),
        ("target_percent=100", "target_percent must be a number from 1 to 99"),
        ("within_minutes=soon", "within_minutes must be a number"),
        ("handle_seconds=nan", "handle_seconds must be a number"),
    ],
)
def test_bad_input_is_a_400_with_its_reason(client: TestClient, query: str, reason: str) -> None:
    sign_in(client, "lead@example.com")
    r = client.get(f"/reports/staffing?{query}")
    assert r.status_code == 400
    assert reason in r.text


def test_agents_may_not_open_it(client: TestClient) -> None:
    sign_in(client, "agent@example.com")
    assert client.get("/reports/staffing").status_code == 403
