"""The conversation page's customer panel shows the customer's mood and its trend (the
sparkline named by its scores), and the banner of an open incident leads to its room."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Site, sign_in
from tests.web.test_ticket_trend import ANGRIER, _link_incident, _thread

pytestmark = pytest.mark.browser


def test_mood_trend_and_incident_banner(browser: Any, site: Site, tmp_path: Path) -> None:
    ticket_id = _thread(site.db, ANGRIER)
    incident_id = _link_incident(site.db, ticket_id)

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, site, "agent@example.com")
    page.goto(f"{site.url}/tickets/{ticket_id}")
    panel = page.locator("section.customer")
    panel.get_by_text("worsening over the last 3 messages").wait_for()
    spark = panel.get_by_role("img", name="Sentiment worsening: scores")
    assert spark.count() == 1 and spark.is_visible()
    page.screenshot(path=str(tmp_path / "ticket-trend.png"), full_page=True)

    banner = page.locator(".incident-banner")
    assert "Part of incident: Cancelled flight" in banner.inner_text()
    banner.get_by_role("link", name="open the incident room").click()
    page.wait_for_url(f"**/incidents/{incident_id}")
    page.close()
