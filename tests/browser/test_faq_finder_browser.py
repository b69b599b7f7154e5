"""The FAQ finder in Chromium on the demo's replayed history (what `socialdesk demo`
loads): a lead sees the top question clusters and makes a canned answer from one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from socialdesk.pipeline.ingest import Pipeline
from socialdesk.replay.service import replay_twcs
from socialdesk.store.models import CannedResponse
from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser
SHOT = Path(__file__).parents[2] / "docs" / "screenshots" / "faq-finder.png"


def test_a_lead_finds_the_top_questions_and_makes_a_canned_answer(
    browser: Any, site: Site, shared_data: Path
) -> None:
    replay_twcs(site.db, shared_data / "twcs" / "twcs_head_5000.csv", pipeline=Pipeline())
    page = browser.new_page(viewport={"width": 1366, "height": 1000})
    sign_in(page, site, "lead@example.com")
    page.goto(site.url + "/settings/faq")
    page.get_by_role("button", name="Find").click()
    page.wait_for_url("**/settings/faq?*")
    clusters = page.locator(".faq-cluster")
    assert clusters.count() >= 10
    volumes = [int(v.split()[0]) for v in page.locator(".faq-cluster .volume").all_inner_texts()]
    assert volumes == sorted(volumes, reverse=True) and volumes[0] >= 10
    assert clusters.first.locator(".faq-examples li").count() == 3
    page.screenshot(path=str(SHOT), full_page=False)

    label = clusters.first.locator("h2").inner_text().split("\n")[0]
    clusters.first.get_by_role("link", name="Make a canned answer").click()
    page.wait_for_url("**/settings/canned?*")
    body = page.locator("#c-body").input_value()
    assert page.locator("#c-title").input_value() and body.strip()
    page.locator("#c-shortcut").fill("top-question")
    page.get_by_role("button", name="Save canned response").click()
    page.wait_for_url("**/settings/canned?done=saved")
    with site.db.session() as s:
        saved = s.query(CannedResponse).filter_by(shortcut="top-question").one()
        assert saved.body.split() == body.split() and saved.title
    assert label
