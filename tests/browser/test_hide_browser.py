"""Hide / Unhide in a real browser: the agent hides a spam reply to the brand's tweet from
the conversation page, the mark appears, the X emulator has it hidden, Unhide undoes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from socialdesk.store.models import Message
from tests.browser.conftest import Site, sign_in
from tests.delivery.helpers import eventually

SHOTS = Path("/tmp/socialdesk-shots")


def test_hide_and_unhide_a_spam_reply(browser: Any, site: Site) -> None:
    site.x_account()
    announcement = site.x.post(
        "/2/tweets",
        json={"text": "Our spring sale starts today"},
        headers={"Authorization": f"Bearer {site.x_token}"},
    ).json()["data"]["id"]
    spam = site.x.post(
        "/_emulator/customer/mention",
        json={
            "customer": {"username": "spam_bot", "name": "Spam Bot"},
            "text": "cheap followers at spam.example",
            "in_reply_to_tweet_id": announcement,
        },
    ).json()["tweet"]["id_str"]

    def stored_ticket() -> int | None:
        with site.db.session() as s:
            return s.scalar(select(Message.ticket_id).where(Message.platform_message_id == spam))

    ticket_id = eventually(stored_ticket)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        sign_in(page, site, "agent@example.com")
        page.goto(f"{site.url}/tickets/{ticket_id}")
        page.get_by_role("button", name="Hide", exact=True).click()
        mark = page.get_by_text("Hidden from the public", exact=True)
        mark.wait_for()
        assert page.get_by_role("button", name="Unhide", exact=True).is_visible()
        assert site.x.get(f"/_emulator/tweets/{spam}").json()["hidden"] is True
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "hidden_message.png"), full_page=True)

        page.get_by_role("button", name="Unhide", exact=True).click()
        page.get_by_role("button", name="Hide", exact=True).wait_for()
        assert page.get_by_text("Hidden from the public", exact=True).count() == 0
        assert site.x.get(f"/_emulator/tweets/{spam}").json()["hidden"] is False
    finally:
        page.close()
