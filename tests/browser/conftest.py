"""Debian's chromium driven by Playwright against the app on a real loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api as playwright_api

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.actions.inbox import save_canned_response
from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.config import get_settings
from socialdesk.domain.enums import Platform, Role
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database
from socialdesk.store.models import User
from socialdesk.web.app import create_app
from socialdesk.web.pages import inbox as inbox_page
from socialdesk.web.serving import serve

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "correct horse battery"


X_SECRET = "browser-test-consumer-secret"


@dataclass
class Site:
    url: str
    db: Database
    ids: dict[str, int]
    x: httpx.Client  # the X emulator, to act as the customer and see what we posted
    x_brand_id: str
    x_token: str

    def x_account(self) -> int:
        """The brand's X account, connected to the emulator with a working token."""
        with self.db.write() as s:
            return create_channel_account(
                s,
                None,
                workspace_id=ensure_workspace(s).id,
                platform=Platform.X,
                handle="AcmeSupport",
                external_id=self.x_brand_id,
                secrets={"access_token": self.x_token},
            ).id

    def customer_tweets(self, username: str, text: str) -> dict[str, Any]:
        r = self.x.post(
            "/_emulator/customer/mention",
            json={"customer": {"username": username, "name": username}, "text": text},
        )
        r.raise_for_status()
        return dict(r.json()["tweet"])

    def posted_tweets(self) -> list[dict[str, Any]]:
        return [
            e for e in self.x.get("/_emulator/sent").json() if e["endpoint"] == "POST /2/tweets"
        ]


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


class CspWatchingBrowser:
    """The browser, with every page and context it opens reporting Content Security
    Policy violations from the console, so each browser test also proves the pages it
    drives run under the CSP (no inline script or style slipped in)."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self.violations: list[str] = []

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            # Where it happened: the page, and the script line that caused it.
            where = message.location or {}
            if str(where.get("url") or "").startswith(("chrome", "about:", "devtools")):
                return  # Chromium's own UI (e.g. a date picker popup), not our pages
            self.violations.append(
                f"{message.text} [at {where.get('url')}:{where.get('lineNumber')}; "
                f"page {message.page.url if message.page else '?'}]"
            )

    def new_context(self, **kwargs: Any) -> Any:
        context = self._browser.new_context(**kwargs)
        context.on("console", self._console)
        return context

    def new_page(self, **kwargs: Any) -> Any:
        page = self._browser.new_page(**kwargs)
        page.on("console", self._console)
        return page

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


# Module scope: the sync API keeps an event loop running in this thread while open,
# which would break later tests that call asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing at /usr/bin/chromium (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield CspWatchingBrowser(b)
        b.close()


@pytest.fixture(autouse=True)
def no_csp_violations(request: pytest.FixtureRequest) -> Iterator[None]:
    if "browser" not in request.fixturenames:
        yield
        return
    watcher: CspWatchingBrowser = request.getfixturevalue("browser")
    watcher.violations.clear()
    yield
    assert watcher.violations == [], "Content Security Policy violations in the console"


@pytest.fixture
def site(db: Database) -> Iterator[Site]:
    ids = seed_users(db)
    inbox_page.forget_counts()
    emulator = create_x_emulator(X_SECRET, retry_delay_seconds=0.05)
    with serve_app(emulator) as x_url, httpx.Client(base_url=x_url, timeout=30) as x:
        brand = x.post("/_emulator/users", json={"username": "AcmeSupport"}).json()
        token = x.post("/_emulator/tokens", json={"user_id": brand["id"]}).json()["access_token"]
        settings = get_settings().model_copy(
            update={"x_consumer_secret": X_SECRET, "x_api_base_url": x_url}
        )
        with serve(create_app(settings, db)) as url:
            x.put("/_emulator/webhook", json={"url": url + "/hooks/x"})
            yield Site(url, db, ids, x, brand["id"], token)


def sign_in(page: Any, site: Site, email: str) -> None:
    page.goto(site.url + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox")
