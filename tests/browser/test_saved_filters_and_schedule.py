"""Saved filters in the sidebar and scheduled send, in Debian's chromium."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from socialdesk.store.models import Message, OutboxEntry
from tests.browser.conftest import Site, sign_in
from tests.pipeline.helpers import ingest, post

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Set to write docs/screenshots/saved-filters.png (never overwritten by a plain run).
REFRESH = os.environ.get("SOCIALDESK_REFRESH_SCREENSHOTS") == "1"


def test_save_a_filter_then_schedule_and_cancel_a_reply(
    browser: Any, site: Site, tmp_path: Path
) -> None:
    account = site.x_account()
    ingest(
        site.db,
        post(account, "b1", "My parcel never arrived", author="sarah"),
        post(account, "b2", "The parcel came broken, I want a refund", author="tom"),
        post(account, "b3", "Love the new app!", author="lee"),
    )
    # The agent's browser is in Berlin: the scheduled time is entered in Berlin time.
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id="Europe/Berlin")
    page = ctx.new_page()
    sign_in(page, site, "agent@example.com")

    # Filter by text, save it under a name (shared), and find it in the sidebar with its count.
    page.get_by_label("Search text").fill("parcel")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(lambda url: "q=parcel" in url)
    assert page.locator(".ticket-row").count() == 2
    page.locator("summary", has_text="Save this filter").click()
    page.locator("#save-filter-name").fill("Parcel problems")
    page.get_by_label("Share with the workspace").check()
    page.get_by_role("button", name="Save filter").click()
    saved = page.locator(".saved-filter a", has_text="Parcel problems")
    saved.wait_for()
    assert saved.locator(".count").inner_text() == "2"
    assert saved.get_attribute("aria-current") == "page"
    page.goto(site.url + "/inbox")
    page.locator(".saved-filter a", has_text="Parcel problems").locator(".count").wait_for()
    page.locator(".saved-filter a", has_text="Parcel problems").click()
    page.wait_for_url(lambda url: "q=parcel" in url and "view=" in url)
    assert page.locator(".ticket-row").count() == 2
    page.screenshot(path=str(tmp_path / "saved-filters.png"))
    if REFRESH:
        page.screenshot(path=str(SCREENSHOTS / "saved-filters.png"))

    # Schedule a reply for tomorrow 10:00 Berlin time (09:00 UTC in winter).
    page.locator(".ticket-row", has_text="never arrived").locator(".row-link").click()
    page.wait_for_url("**/tickets/*")
    berlin = ZoneInfo("Europe/Berlin")
    tomorrow = (datetime.now(berlin) + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    page.get_by_label("Reply text").fill("We will post the replacement tomorrow.")
    page.locator("#send-at-local").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule", exact=True).click()
    badge = page.locator(".msg.outbound .badge.scheduled")
    badge.wait_for()
    assert "Scheduled for" in badge.inner_text()
    page.screenshot(path=str(tmp_path / "scheduled.png"))
    with site.db.session() as s:
        message = s.scalar(select(Message).where(Message.direction == "outbound"))
        assert message is not None and message.delivery_state == "scheduled"
        entry = s.scalar(select(OutboxEntry).where(OutboxEntry.message_id == message.id))
        assert entry is not None
        assert entry.next_attempt_at == tomorrow.astimezone(UTC)
        message_id = message.id
    assert site.posted_tweets() == []  # the worker runs, but nothing is due

    page.get_by_role("button", name="Cancel scheduled reply").click()
    # (The notice may be replaced at once by the live thread refresh; the badge stays.)
    page.locator(".msg.outbound .badge.cancelled").wait_for()
    assert page.get_by_role("button", name="Cancel scheduled reply").count() == 0
    with site.db.session() as s:
        cancelled = s.get(Message, message_id)
        assert cancelled is not None and cancelled.delivery_state == "cancelled"
        assert s.scalar(select(OutboxEntry).where(OutboxEntry.message_id == message_id)) is None
    assert site.posted_tweets() == []
    ctx.close()
