"""The Mentions page in a real browser: posts a saved search found on the X emulator
are listed with their sentiment in words, filtered to the negative ones, and one click
makes one a ticket (the agent lands on it; the mention shows its ticket)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import select

from socialdesk.actions.admin import ensure_workspace
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.config import Settings
from socialdesk.listening.poller import run_search
from socialdesk.listening.searches import create_search
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.store.models import ListeningMention, User
from tests.browser.conftest import X_SECRET, Site, sign_in

SHOTS = Path("/tmp/socialdesk-shots")


def seed_mentions(site: Site) -> None:
    account_id = site.x_account()
    tweets = [
        ("1900000000000000001", "maria_t", "Acme Air cancelled my flight, nobody answers. Awful."),
        ("1900000000000000002", "joe_flies", "Flying Acme Air to Lisbon today, crew were lovely!"),
        ("1900000000000000003", "recruit_bot", "Acme Air jobs: apply now"),
    ]  # fmt: skip
    history = [{"id": i, "author": {"username": u}, "text": t} for i, u, t in tweets]
    assert site.x.post("/_emulator/history", json={"tweets": history}).json()["imported"] == 3
    with site.db.write() as s:
        lead = s.get_one(User, site.ids["lead@example.com"])
        search = create_search(
            s, lead, ensure_workspace(s).id,
            {"name": "Brand", "brands": ["Acme Air"], "exclusions": ["jobs"],
             "account_ids": [account_id], "enabled": False},
        )  # fmt: skip
        search_id = search.id

    async def run() -> None:
        registry = ConnectorRegistry(
            Settings(x_consumer_secret=X_SECRET, x_api_base_url=str(site.x.base_url))
        )
        try:
            await run_search(site.db, Pipeline(), registry, search_id)
        finally:
            await registry.aclose()

    # Playwright's sync API keeps an event loop on this thread: the pass runs on another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(run())).result()


def test_mentions_page_lists_filters_and_makes_a_ticket(browser: Any, site: Site) -> None:
    seed_mentions(site)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        sign_in(page, site, "agent@example.com")
        page.goto(f"{site.url}/inbox")
        page.get_by_role("link", name="Mentions", exact=True).click()
        page.get_by_role("heading", name="Mentions").wait_for()
        assert page.get_by_text("Acme Air cancelled my flight", exact=False).is_visible()
        assert page.get_by_text("crew were lovely", exact=False).is_visible()
        assert page.get_by_text("apply now", exact=False).count() == 0  # excluded
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "mentions.png"), full_page=True)

        page.get_by_label("Sentiment").select_option("negative")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url("**sentiment=negative**")
        assert page.get_by_text("crew were lovely", exact=False).count() == 0
        angry = page.locator(".mention", has_text="cancelled my flight")
        assert angry.get_by_text("Sentiment: negative").is_visible()

        angry.get_by_role("button", name="Make ticket").click()
        page.wait_for_url("**/tickets/*")
        assert page.get_by_text("Acme Air cancelled my flight", exact=False).first.is_visible()
        with site.db.session() as s:
            made = s.scalars(
                select(ListeningMention).where(ListeningMention.status == "ticketed")
            ).one()
        assert page.url.endswith(f"/tickets/{made.ticket_id}")

        page.goto(f"{site.url}/mentions?status=all")
        link = page.get_by_role("link", name=f"#{made.ticket_id}")
        assert link.is_visible()
        page.screenshot(path=str(SHOTS / "mentions_ticketed.png"), full_page=True)
    finally:
        page.close()


def test_settings_listening_adds_a_saved_search(browser: Any, site: Site) -> None:
    site.x_account()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        sign_in(page, site, "lead@example.com")
        page.goto(f"{site.url}/settings/listening")
        page.get_by_label("Name", exact=True).fill("Brand watch")
        page.get_by_label("Brand names").fill("Acme Air, AcmeAir")
        page.get_by_label("Hashtags").fill("#acmefail")
        page.get_by_label("Leave out posts with").fill("jobs")
        page.get_by_label("X @AcmeSupport").check()
        page.get_by_role("button", name="Save search").click()
        page.get_by_text("Saved search saved.").wait_for()
        row = page.locator("tr", has_text="Brand watch").first
        assert row.get_by_text("Acme Air, AcmeAir #acmefail").is_visible()
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "settings_listening.png"), full_page=True)
    finally:
        page.close()
