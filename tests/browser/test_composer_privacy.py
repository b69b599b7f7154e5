"""The composer asks before publishing personal data, in Debian's chromium: a public reply
with an e-mail address shows a confirm step offering "Move to private", which sends it
as a direct message instead (nothing is posted in public)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


def test_personal_data_in_a_public_reply_offers_move_to_private(
    browser: Any, site: Site, tmp_path: Any
) -> None:
    site.x_account()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, site, "agent@example.com")
    page.wait_for_selector("#live-status.on")
    site.customer_tweets("carla", "I never got the confirmation e-mail")
    row = page.locator(".ticket-row", has_text="confirmation e-mail")
    row.wait_for(timeout=10_000)
    row.locator(".row-link").click()
    page.wait_for_url("**/tickets/*")
    assert page.get_by_label("Public reply").is_checked()

    page.get_by_label("Reply text").fill("We resent it to carla@example.org just now.")
    page.get_by_role("button", name="Send", exact=True).click()
    confirm = page.locator("#reply-confirm .confirm-personal")
    confirm.wait_for()
    assert "an e-mail address" in confirm.inner_text()
    assert "carla@example.org" in confirm.inner_text()
    page.screenshot(path=str(tmp_path / "personal-data-confirm.png"))

    confirm.get_by_role("button", name="Move to private").click()
    page.locator(".msg.outbound.private", has_text="carla@example.org").wait_for()
    assert page.locator("#reply-confirm .confirm-personal").count() == 0
    assert not [t for t in site.posted_tweets() if "carla@" in str(t)]


def test_a_customer_posting_their_phone_in_public_is_flagged(browser: Any, site: Site) -> None:
    site.x_account()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, site, "agent@example.com")
    page.wait_for_selector("#live-status.on")
    site.customer_tweets("dev", "Nobody called back! My number is +44 20 7946 0958")
    row = page.locator(".ticket-row", has_text="Nobody called back")
    row.wait_for(timeout=10_000)
    row.locator(".row-link").click()
    page.wait_for_url("**/tickets/*")
    warning = page.locator(".pii-warning")
    assert "This public post shows a phone number." in warning.inner_text()
    # The warning's button opens "Move to private" in the composer, ready to type.
    warning.get_by_role("button", name="Move to private").click()
    assert page.locator("details.move-private").get_attribute("open") is not None
    assert page.evaluate("document.activeElement.id") == "private-body"
    # The post can be hidden from the same place.
    assert page.locator(".msg.inbound").get_by_role("button", name="Hide").count() == 1
    page.close()
