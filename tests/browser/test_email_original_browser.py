"""A trimmed e-mail in a real browser: the agent reads only the new text, opens "Show the
full e-mail" (a ``<details>``, no script) and sees the quoted Outlook history."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Site, sign_in
from tests.web.test_email_original_page import OUTLOOK_REPLY, seed_email


def test_show_the_full_email_opens_the_original(browser: Any, site: Site) -> None:
    ticket_id = seed_email(site.db, OUTLOOK_REPLY)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        sign_in(page, site, "agent@example.com")
        page.goto(f"{site.url}/tickets/{ticket_id}")
        message = page.locator("li.msg").first
        assert message.locator("> .msg-body").inner_text() == "Blue, please."
        history = page.get_by_text("Which colour would you like?")
        assert not history.is_visible()
        assert not page.get_by_text("Jane Doe\nExample Ltd").first.is_visible()

        page.get_by_text("Show the full e-mail", exact=True).click()
        history.wait_for(state="visible")
        assert page.get_by_text("From: Acme Support <support@acme.test>").is_visible()

        page.get_by_text("Signature", exact=True).click()
        assert message.locator(".msg-signature .msg-body").inner_text().startswith("Best regards,")
    finally:
        page.close()
