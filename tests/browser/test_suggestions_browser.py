"""An article a lead publishes shows up in a ticket's suggestions box, in Debian's
chromium, and "Insert link" / "Insert text" put it into the reply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from socialdesk.knowledge.articles import ArticleDraft, create_article
from socialdesk.store.models import User, Workspace
from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "suggestions.png"


def test_suggestion_inserted_into_the_reply(browser: Any, site: Site) -> None:
    site.x_account()
    with site.db.write() as s:
        lead = s.scalars(select(User).where(User.email == "lead@example.com")).one()
        workspace = s.scalars(select(Workspace)).one()
        create_article(
            s,
            lead,
            workspace.id,
            ArticleDraft(
                title="Lost parcels",
                body="We resend a parcel lost for 7 days.",
                status="published",
                summaries={"x": "Lost parcel? We resend it after 7 days:"},
            ),
        )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, site, "agent@example.com")
    page.wait_for_selector("#live-status.on")
    site.customer_tweets("dana", "my parcel is lost, it has been 9 days")
    row = page.locator(".ticket-row", has_text="parcel is lost")
    row.wait_for(timeout=10_000)
    row.locator(".row-link").click()
    page.wait_for_url("**/tickets/*")
    item = page.locator("#suggestions-body .suggestion", has_text="Lost parcels")
    item.wait_for()
    item.get_by_role("button", name="Insert text").click()
    reply = page.get_by_label("Reply text")
    assert reply.input_value().startswith("Lost parcel? We resend it after 7 days: http")
    assert "/h/" in reply.input_value() and reply.input_value().endswith("?c=x")
    reply.fill("")
    item.get_by_role("button", name="Insert link").click()
    assert reply.input_value().startswith("http") and "/h/" in reply.input_value()
    # the box stays in the composer (the thread above keeps its messages)
    assert page.locator("#thread .suggestion").count() == 0
    page.locator(".composer").screenshot(path=str(SCREENSHOT))
