"""Debian's chromium driven by Playwright against the app on a real loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.actions.inbox import save_canned_response
from socialdesk.config import get_settings
from socialdesk.domain.enums import Role
from socialdesk.store.db import Database
from socialdesk.store.models import User
from socialdesk.web.app import create_app
from socialdesk.web.pages import inbox as inbox_page
from socialdesk.web.serving import serve

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "correct horse battery"


@dataclass
class Site:
    url: str
    db: Database
    ids: dict[str, int]


def seed_users(db: Database) -> dict[str, int]:
    with db.write() as s:
        ws = ensure_workspace(s)
        ids = {}
        for email, role, name in (
            ("admin@example.com", Role.ADMIN, "Ada Admin"),
            ("lead@example.com", Role.LEAD, "Lee Lead"),
            ("agent@example.com", Role.AGENT, "Sam Agent"),
        ):
            ids[email] = create_user(s, email, PASSWORD, role, name=name, workspace=ws).id
        admin = s.get_one(User, ids["admin@example.com"])
        save_canned_response(
            s,
            admin,
            ws.id,
            shortcut="sorry",
            title="Apology",
            body=(
                "Hi {first_name}, sorry about that! Could you DM us your order number? "
                "^{agent_initials}"
            ),
        )
    return ids


# Module scope: the sync API keeps an event loop running in this thread while open,
# which would break later tests that call asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed at /usr/bin/chromium")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def site(db: Database) -> Iterator[Site]:
    ids = seed_users(db)
    inbox_page.forget_counts()
    with serve(create_app(get_settings(), db)) as url:
        yield Site(url, db, ids)


def sign_in(page: Any, site: Site, email: str) -> None:
    page.goto(site.url + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox")
