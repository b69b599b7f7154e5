"""The inbox as a person uses it, in Debian's chromium."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from socialdesk.actions.inbox import set_posting_right
from socialdesk.store.models import Message, User
from tests.browser.conftest import Site, sign_in
from tests.pipeline.helpers import ingest, make_account, post

pytestmark = pytest.mark.browser


def test_live_ticket_canned_reply_and_collision(browser: Any, site: Site) -> None:
    site.x_account()
    agent_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = agent_ctx.new_page()
    sign_in(page, site, "agent@example.com")
    page.wait_for_selector("#live-status.on")

    # A customer tweets at the brand on the X emulator; the signed webhook brings it in
    # and the ticket shows up in the open inbox without a reload.
    tweet = site.customer_tweets("jordan", "Where is my refund??")
    row = page.locator(".ticket-row", has_text="Where is my refund??")
    row.wait_for(timeout=10_000)

    row.locator(".row-link").click()
    page.wait_for_url("**/tickets/*")
    ticket_url = page.url

    # A lead opens the same ticket in another browser context: both see each other.
    lead_ctx = browser.new_context(viewport={"width": 1024, "height": 768})
    lead = lead_ctx.new_page()
    sign_in(lead, site, "lead@example.com")
    lead.goto(ticket_url)
    lead.locator(".collision", has_text="Sam Agent").wait_for(timeout=10_000)
    page.locator(".collision", has_text="Lee Lead").wait_for(timeout=10_000)

    # Canned response via "/", variables filled, counter counts like X.
    box = page.get_by_label("Reply text")
    box.click()
    box.type("/sor")
    page.locator(".canned-item", has_text="/sorry").wait_for()
    box.press("Enter")
    expected = "Hi jordan, sorry about that! Could you DM us your order number? ^SA"
    assert box.input_value() == expected
    page.locator(".count-num", has_text=f"{len(expected)} / 280").wait_for()
    lead.locator(".collision", has_text="Sam Agent is typing").wait_for(timeout=10_000)

    page.get_by_role("button", name="Send", exact=True).click()
    page.locator(".msg.outbound", has_text="Could you DM us").wait_for()
    assert box.input_value() == ""
    # The lead's open thread picks the reply up live as well.
    lead.locator(".msg.outbound", has_text="Could you DM us").wait_for(timeout=10_000)
    # The delivery worker posts it on X, under the customer's tweet.
    deadline = time.monotonic() + 15
    while not site.posted_tweets() and time.monotonic() < deadline:
        time.sleep(0.1)
    (posted,) = site.posted_tweets()
    assert posted["body"]["reply"]["in_reply_to_tweet_id"] == tweet["id_str"]
    assert posted["body"]["text"] == expected
    page.locator(".msg.outbound .delivery", has_text="sent").wait_for(timeout=10_000)
    with site.db.session() as s:
        sent = s.scalar(select(Message).where(Message.direction == "outbound"))
        assert sent is not None and sent.delivery_state == "sent"
        assert sent.platform_message_id == posted["id"]

    # Move the conversation to a DM: the message goes to the customer on X privately.
    page.locator("summary", has_text="Move to private").click()
    page.get_by_label("Send a direct message").check()
    page.locator("#private-body").fill("Hi Jordan, could you send us your order number here?")
    page.locator("#private-form").get_by_role("button", name="Move to private").click()
    page.locator(".msg.outbound.private", has_text="send us your order number").wait_for()
    deadline = time.monotonic() + 15
    dms: list[dict[str, Any]] = []
    while not dms and time.monotonic() < deadline:
        dms = [
            e for e in site.x.get("/_emulator/sent").json() if "dm_conversations" in e["endpoint"]
        ]
        time.sleep(0.1)
    assert len(dms) == 1
    assert tweet["user"]["id_str"] in dms[0]["path"]
    agent_ctx.close()
    lead_ctx.close()


def test_keyboard_shortcuts_and_help(browser: Any, site: Site) -> None:
    account = make_account(site.db)
    ingest(site.db, post(account, "k1", "first question", author="a1"))
    ingest(site.db, post(account, "k2", "second question", author="a2", minutes=1))
    ctx = browser.new_context()
    page = ctx.new_page()
    sign_in(page, site, "agent@example.com")
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url("**/tickets/*")
    page.keyboard.press("a")
    page.wait_for_load_state()
    page.get_by_role("button", name="Assign to me").wait_for()
    assert page.get_by_role("button", name="Assign to me").is_disabled()
    ctx.close()


def test_approval_and_csrf(browser: Any, site: Site) -> None:
    account = make_account(site.db)
    ingest(site.db, post(account, "a1", "Your app crashes on login", author="morgan"))
    with site.db.write() as s:
        admin = s.get_one(User, site.ids["admin@example.com"])
        agent = s.get_one(User, site.ids["agent@example.com"])
        set_posting_right(s, admin, agent, account, False)
    ctx = browser.new_context()
    page = ctx.new_page()
    sign_in(page, site, "agent@example.com")
    page.locator(".ticket-row .row-link").first.click()
    page.get_by_label("Reply text").fill("We are on it, Morgan.")
    page.get_by_role("button", name="Submit for approval").click()
    page.locator(".msg.draft", has_text="We are on it").wait_for()

    # A form post without the CSRF token is refused.
    status = page.evaluate(
        """async () => (await fetch(location.pathname + '/note', {method: 'POST',
        headers: {'content-type': 'application/x-www-form-urlencoded'},
        body: 'body=sneaky'})).status"""
    )
    assert status == 403

    lead_ctx = browser.new_context()
    lead = lead_ctx.new_page()
    sign_in(lead, site, "lead@example.com")
    lead.goto(site.url + "/approvals")
    lead.get_by_label("Reply (edit before approving if needed)").fill("We are on it, Morgan!")
    lead.get_by_role("button", name="Approve and send").click()
    lead.get_by_text("Nothing waits for approval.").wait_for()
    page.reload()
    page.locator(".msg.outbound", has_text="We are on it, Morgan!").wait_for()
    with site.db.session() as s:
        assert s.scalar(select(Message.body).where(Message.direction == "note")) is None
    ctx.close()
    lead_ctx.close()
