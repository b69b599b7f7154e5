"""An agent whose browser is in Berlin but who works New York hours: the zone chosen in
the profile wins for "Send at" and for the times the pages print."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from socialdesk.store.models import OutboxEntry
from tests.browser.conftest import Site, sign_in
from tests.pipeline.helpers import ingest, post

pytestmark = pytest.mark.browser


def test_the_profile_zone_rules_send_at_and_printed_times(browser: Any, site: Site) -> None:
    account = site.x_account()
    ingest(site.db, post(account, "tz1", "When will my parcel come?", author="noor"))
    ctx = browser.new_context(timezone_id="Europe/Berlin")
    page = ctx.new_page()
    sign_in(page, site, "agent@example.com")

    # Nothing chosen yet: the picker starts on the browser's zone.
    page.goto(site.url + "/account")
    picker = page.get_by_label("Show times in")
    assert picker.input_value() == "Europe/Berlin"
    picker.select_option("America/New_York")
    page.get_by_role("button", name="Save time zone").click()
    page.locator(".notice", has_text="Time zone saved.").wait_for()
    assert picker.input_value() == "America/New_York"

    page.goto(site.url + "/inbox")
    page.locator(".ticket-row .row-link").first.click()
    page.wait_for_url("**/tickets/*")
    assert page.locator("label[for=send-at-local]").inner_text() == "Send at (America/New_York)"
    new_york = ZoneInfo("America/New_York")
    wall = (datetime.now(new_york) + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    page.get_by_label("Reply text").fill("We will call you tomorrow morning.")
    page.locator("#send-at-local").fill(wall.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule", exact=True).click()
    badge = page.locator(".msg.outbound .badge.scheduled")
    badge.wait_for()
    # Printed in New York time, not Berlin's.
    assert "10:00" in badge.inner_text()
    with site.db.session() as s:
        due = s.scalar(select(OutboxEntry.next_attempt_at))
    assert due == wall.astimezone(UTC)
    ctx.close()
