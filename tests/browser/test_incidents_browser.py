"""The incident room in Chromium: a lead follows the nav to an incident the radar raised,
reads its volume chart and top terms, and sends personalised holding replies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from socialdesk.config import reset_settings_cache
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.triage_step import TriageStep
from socialdesk.radar.scan import scan
from socialdesk.replay.service import replay_twcs
from socialdesk.store.db import utcnow
from tests.browser.conftest import Site, sign_in
from tests.radar.airline_week import START, SURGE_DAY, posts, write_csv

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _no_radar_worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test runs the radar's pass itself."""
    monkeypatch.setenv("SOCIALDESK_RADAR_SECONDS", "0")
    reset_settings_cache()
    yield
    reset_settings_cache()


def test_a_lead_answers_an_incident_from_its_room(browser: Any, site: Site, tmp_path: Path) -> None:
    cut = START + timedelta(days=SURGE_DAY, hours=17)
    items = [(at, text) for at, text in posts() if at < cut]
    replay_twcs(
        site.db,
        write_csv(tmp_path / "now.csv", items),
        pipeline=Pipeline(steps=[TriageStep()]),
        end_at=utcnow() - timedelta(minutes=5),
    )
    result = scan(site.db)
    assert result is not None and len(result.raised) == 1

    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    sign_in(page, site, "lead@example.com")
    page.get_by_role("link", name="Incidents").click()
    page.wait_for_url("**/incidents")
    page.get_by_role("link", name="Cancelled flight").click()
    page.wait_for_url("**/incidents/*")
    assert "Cancelled flight on" in page.locator("h1").inner_text()
    assert page.locator("figure.chart svg").count() == 1
    terms = page.locator("ul.terms").inner_text().lower()
    assert "cancelled" in terms or "canceled" in terms
    tickets = page.locator("ul.incident-tickets li").count()
    assert tickets >= 20
    page.screenshot(path=str(tmp_path / "incident.png"), full_page=True)
    Path("/tmp/radar_incident.png").write_bytes((tmp_path / "incident.png").read_bytes())
    page.get_by_role("button", name="Send holding replies").click()
    page.wait_for_url("**/incidents/*?done=*")
    notice = page.locator("p.notice").inner_text()
    assert "Holding replies: sent" in notice
    sent = int(notice.split("sent ")[1].split()[0])
    assert sent >= tickets - 2
    page.get_by_role("button", name="Close incident").click()
    page.wait_for_url("**/incidents/*?done=closed")
    assert "closed" in page.locator("h1 .badge").inner_text()
