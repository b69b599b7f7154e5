"""An admin writes an article in Settings (with the preview) and a customer reads it on
the public help centre at desktop and phone width, searches, and answers "helpful"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from socialdesk.store.models import Article
from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def _write_article(browser: Any, site: Site) -> None:
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    sign_in(page, site, "admin@example.com")
    page.goto(site.url + "/settings/kb")
    page.get_by_role("link", name="Write an article").click()
    page.get_by_label("Title").fill("Where is my parcel?")
    page.get_by_label("Category").fill("Delivery")
    page.get_by_label("Tags").fill("parcel, tracking")
    page.get_by_label("Text").fill(
        "Most parcels arrive within **3 working days**.\n\n"
        "1. Open *Orders*\n2. Pick the order\n3. Follow the tracking link\n\n"
        "Still nothing after 7 days? Write to us and we send a new one."
    )
    page.get_by_label("State").select_option("published")
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("heading", name="Preview (not saved)").wait_for()
    assert page.locator(".kb-preview strong").inner_text() == "3 working days"
    page.get_by_role("button", name="Save article").click()
    page.get_by_text("Article saved.").wait_for()
    page.context.close()


@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1366, 900), ("phone", 390, 844)])
def test_article_on_the_help_centre(
    browser: Any, site: Site, name: str, width: int, height: int
) -> None:
    _write_article(browser, site)
    with site.db.session() as s:
        article = s.scalars(select(Article)).one()
        code = article.short_code
    customer = browser.new_context(
        viewport={"width": width, "height": height}, java_script_enabled=False
    )
    page = customer.new_page()
    page.goto(site.url + "/help/default")
    page.get_by_role("heading", name="Delivery").wait_for()
    page.get_by_label("Search the help centre").fill("parcel tracking")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("heading", name="1 article for").wait_for()
    page.locator(".articles").first.get_by_role("link", name="Where is my parcel?").click()
    page.get_by_role("heading", name="Where is my parcel?", level=1).wait_for()
    assert page.locator('meta[property="og:title"]').get_attribute("content", timeout=1000)
    page.get_by_role("button", name="Yes").click()
    page.get_by_text("Thank you for telling us.").wait_for()
    customer.close()

    # Layout measured with scripts on: nothing scrolls sideways at this width.
    viewer = browser.new_context(viewport={"width": width, "height": height})
    page = viewer.new_page()
    page.goto(f"{site.url}/h/{code}?c=x")
    page.get_by_role("heading", name="Where is my parcel?", level=1).wait_for()
    assert page.evaluate(OVERFLOW) <= 0
    page.screenshot(path=str(SCREENSHOTS / f"help-centre-{name}.png"), full_page=True)
    viewer.close()
    with site.db.session() as s:
        article = s.scalars(select(Article)).one()
        assert article.helpful_yes == 1
