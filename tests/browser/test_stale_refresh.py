"""A live refresh that was already on its way never undoes what an agent just did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import Site, sign_in
from tests.pipeline.helpers import ingest, post

pytestmark = pytest.mark.browser


def test_a_refresh_sent_before_cancelling_does_not_bring_the_scheduled_reply_back(
    browser: Any, site: Site
) -> None:
    account = site.x_account()
    ingest(site.db, post(account, "s1", "My parcel never arrived", author="sarah"))
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id="UTC")
    page = ctx.new_page()
    # No live stream: the only refresh is the one this test holds back, so nothing later
    # can repair a stale swap and hide the defect.
    page.route("**/live", lambda route: route.abort())
    sign_in(page, site, "agent@example.com")
    page.locator(".ticket-row", has_text="never arrived").locator(".row-link").click()
    page.wait_for_url("**/tickets/*")

    tomorrow = datetime.now(UTC) + timedelta(days=1)
    page.get_by_label("Reply text").fill("We will post the replacement tomorrow.")
    page.locator("#send-at-local").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule", exact=True).click()
    page.locator(".msg.outbound .badge.scheduled").wait_for()

    # A live refresh leaves while the reply is still scheduled; its answer is held back.
    held: list[Any] = []
    page.route("**/tickets/*/thread", lambda route: held.append(route))
    page.evaluate("htmx.trigger(document.body, 'sd:ticket-changed')")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the refresh never left"
    stale = held[0].fetch()
    assert "Cancel scheduled reply" in stale.text()

    page.get_by_role("button", name="Cancel scheduled reply").click()
    page.locator(".msg.outbound .badge.cancelled").wait_for()

    # Now the old answer arrives.
    held[0].fulfill(response=stale)
    with pytest.raises(PlaywrightTimeout):
        page.locator(".msg.outbound .badge.scheduled").wait_for(timeout=1500)
    assert page.locator(".msg.outbound .badge.cancelled").count() == 1
    assert page.get_by_role("button", name="Cancel scheduled reply").count() == 0
    ctx.close()
