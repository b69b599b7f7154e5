"""Reports → Digest in Chromium: a lead opens the day's digest from the Reports page and
reads the same figures as the API, the volume chart with its table."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from socialdesk.config import Settings
from socialdesk.domain.enums import Platform
from socialdesk.reports.digest import build_digest
from socialdesk.store.db import utcnow
from socialdesk.wiring.pipeline import build_pipeline
from tests.browser.conftest import Site, sign_in
from tests.pipeline.helpers import ingest, make_account, post

pytestmark = pytest.mark.browser


def test_a_lead_reads_the_digest_of_a_day(browser: Any, site: Site, tmp_path: Path) -> None:
    x = make_account(site.db)
    facebook = make_account(site.db, Platform.FACEBOOK, handle="AcmeFB")
    for n, text in enumerate(["my parcel is late", "love the new app!", "refund please"]):
        ingest(site.db, post(x, f"b{n}", f"@AcmeSupport {text}", author=f"c{n}", minutes=n))
    ingest(
        site.db,
        post(
            facebook, "m1", "Where is my order?", author="c9", minutes=5, platform=Platform.FACEBOOK
        ),
        pipeline=build_pipeline(Settings()),
    )
    with site.db.session() as s:
        expected = build_digest(s, 1, date(2017, 10, 31), utcnow())
    assert expected.messages == 4

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, site, "lead@example.com")
    page.goto(f"{site.url}/reports")
    page.get_by_role("link", name="Digest").click()
    page.wait_for_url("**/reports/digest")
    page.get_by_label("Day").fill("2017-10-31")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/reports/digest?date=2017-10-31")
    assert page.locator("h1").inner_text() == "What was said about you on 2017-10-31"
    messages = page.locator('.headline[data-field="messages"] .headline-value')
    assert messages.inner_text() == "4"
    rows = page.locator('table[data-table="digest-volume"] tbody tr')
    assert rows.count() == len(expected.messages_by_channel) == 2
    assert page.locator("svg.chart").count() == 1
    slowest = page.locator('table[data-table="digest-slowest"] tbody tr')
    assert slowest.count() == len(expected.slowest) == 4
    assert "still waiting" in slowest.first.inner_text()
    page.screenshot(path=str(tmp_path / "digest.png"), full_page=True)
    Path("/tmp/r2_digest.png").write_bytes((tmp_path / "digest.png").read_bytes())
