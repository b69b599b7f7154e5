"""The Reports page in Chromium: a lead picks a period and a grouping, sees the headline
numbers, the charts with their tables, and downloads a CSV; the same numbers as the API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from socialdesk.pipeline.ingest import Pipeline
from socialdesk.replay.service import replay_twcs
from socialdesk.reports.metrics import GroupBy
from socialdesk.reports.overview import overview
from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


def test_a_lead_reads_the_reports_page_and_downloads_csv(
    browser: Any, site: Site, shared_data: Path, tmp_path: Path
) -> None:
    replay_twcs(site.db, shared_data / "twcs" / "twcs_kaggle_sample.csv", pipeline=Pipeline())
    since, until = datetime(2017, 10, 9, tzinfo=UTC), datetime(2017, 10, 13, tzinfo=UTC)
    with site.db.session() as s:
        expected = overview(s, 1, since, until, GroupBy.ACCOUNT, datetime.now(UTC))
    assert expected.totals["opened"] > 10

    page = browser.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    sign_in(page, site, "lead@example.com")
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url("**/reports")
    page.get_by_label("From", exact=True).fill("2017-10-09")
    page.get_by_label("To", exact=True).fill("2017-10-13")
    page.get_by_label("Group by", exact=True).select_option("account")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/reports?*by=account*")

    opened = page.locator('.headline[data-field="opened"] .headline-value')
    assert opened.inner_text() == str(expected.totals["opened"])
    rate = page.locator('.headline[data-field="response_rate_24h"] .headline-value')
    assert rate.inner_text() == f"{expected.totals['response_rate_24h'] * 100:.1f}%"
    rows = page.locator('table[data-table="overview"] tbody tr')
    assert rows.count() == len(expected.rows)
    first = rows.first.locator("th").inner_text()
    assert first == expected.rows[0]["label"]
    # Every chart has its table beside it: the charts are SVG drawn by the server.
    assert page.locator("svg.chart").count() >= 7
    for name in ("opened", "solved", "rate", "first_response", "resolution", "who", "hours"):
        assert page.locator(f'table[data-table="{name}"]').count() == 1, name
    page.screenshot(path=str(tmp_path / "reports.png"), full_page=True)

    with page.expect_download() as info:
        page.locator("#report-overview .csv-link").click()
    download = info.value
    assert download.suggested_filename.startswith("socialdesk-overview")
    records = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8"))))
    assert [(r["Key"], int(r["Opened"])) for r in records] == [
        (row["label"], row["opened"]) for row in expected.rows
    ]

    # A period that cannot be read is a 400 with the reason, not a stack trace.
    response = page.goto(site.url + "/reports?since=2017-10-13&until=2017-10-09")
    assert response is not None and response.status == 400
    assert "since must be before until" in page.content()
    page.close()


def test_agents_do_not_see_reports(browser: Any, site: Site) -> None:
    page = browser.new_page()
    sign_in(page, site, "agent@example.com")
    assert page.get_by_role("link", name="Reports").count() == 0
    response = page.goto(site.url + "/reports")
    assert response is not None and response.status == 403
    page.close()
