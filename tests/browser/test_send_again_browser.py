"""A reply the network refused shows "failed" with the reason and a Send again button;
clicking it sends the reply and the badge turns to "sent" without a reload."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


def test_a_failed_reply_is_sent_again_from_the_conversation(browser: Any, site: Site) -> None:
    site.x_account()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, site, "agent@example.com")
    site.customer_tweets("jordan", "My parcel is lost, help!")
    page.locator(".ticket-row", has_text="My parcel is lost").wait_for(timeout=10_000)
    page.locator(".ticket-row", has_text="My parcel is lost").locator(".row-link").click()
    page.wait_for_url("**/tickets/*")

    # X refuses the next call: the reply fails, with X's reason under it.
    site.x.post("/_emulator/faults", json={"status": 403, "count": 1}).raise_for_status()
    page.get_by_label("Reply text").fill("So sorry, Jordan: we are on it.")
    page.get_by_role("button", name="Send", exact=True).click()
    reply = page.locator(".msg.outbound", has_text="we are on it")
    reply.locator(".delivery", has_text="failed").wait_for(timeout=15_000)
    assert site.posted_tweets() == []

    reply.get_by_role("button", name="Send again").click()
    page.locator(".msg.outbound", has_text="we are on it").locator(
        ".delivery", has_text="sent"
    ).wait_for(timeout=15_000)
    assert [t["body"]["text"] for t in site.posted_tweets()] == ["So sorry, Jordan: we are on it."]
    assert page.locator(".msg.outbound").get_by_role("button", name="Send again").count() == 0
    context.close()
