"""A WhatsApp ticket whose customer wrote 25 hours ago, in a real browser: the badge has
its network's colour (from /static/networks.css, under the CSP), the composer says the
window has closed and offers the account's templates, a free-text reply is refused with
the reason, and the same text sent with a template appears as the customer reads it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.channels.whatsapp.names import WHATSAPP
from socialdesk.domain.enums import Visibility
from socialdesk.domain.messages import Author, InboundMessage
from socialdesk.store.db import utcnow
from socialdesk.store.models import Message
from tests.browser.conftest import Site, sign_in
from tests.pipeline.helpers import ingest

SHOTS = Path("/tmp/socialdesk-shots")
TEMPLATES = [{"name": "ticket_update", "language": "en_US", "body": "Update: {{1}}"}]


def test_template_reply_outside_the_window(browser: Any, site: Site) -> None:
    with site.db.write() as s:
        account = create_channel_account(
            s, None, workspace_id=ensure_workspace(s).id, platform=WHATSAPP,
            handle="+15550000000", external_id="1065403", settings={"templates": TEMPLATES},
        ).id  # fmt: skip
    ingest(
        site.db,
        InboundMessage(
            channel_account_id=account, platform=WHATSAPP, platform_message_id="wamid.in",
            author=Author("4915112345", handle="+4915112345", display_name="Jonas"),
            body="Where is my refund?", created_at=utcnow() - timedelta(hours=25),
            visibility=Visibility.PRIVATE, conversation_id="1065403:4915112345",
        ),
    )  # fmt: skip
    with site.db.session() as s:
        ticket_id = s.scalar(select(Message.ticket_id).where(Message.platform == "whatsapp"))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        sign_in(page, site, "agent@example.com")
        page.goto(f"{site.url}/tickets/{ticket_id}")
        badge = page.locator("#ticket-title .net-whatsapp")
        assert badge.get_attribute("aria-label") == "WhatsApp"
        assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(18, 140, 75)"
        assert page.get_by_text("customer-service window closed").first.is_visible()

        page.locator("#composer-body").fill("your refund was issued today")
        page.get_by_role("button", name="Send", exact=True).click()
        page.get_by_role("alert").get_by_text("choose a template").wait_for()

        page.get_by_label("Approved template").select_option("ticket_update")
        page.get_by_role("button", name="Send", exact=True).click()
        page.get_by_text("Update: your refund was issued today").wait_for()
        assert page.get_by_text("template ticket_update").is_visible()
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "whatsapp_template_reply.png"), full_page=True)
    finally:
        page.close()
