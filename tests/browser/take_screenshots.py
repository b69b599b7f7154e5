"""Screenshots for the README: ``python -m tests.browser.take_screenshots URL`` against a
server holding the demo data (``socialdesk demo``)."""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.conftest import ARGS, CHROMIUM

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def main(url: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name, width, height in (("laptop", 1366, 820), ("tablet", 820, 1100)):
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url + "/login")
            page.get_by_label("E-mail").fill("agent@example.com")
            page.get_by_label("Password").fill("socialdesk")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/inbox")
            page.wait_for_selector("#live-status.on")
            page.screenshot(path=str(OUT / f"inbox-{name}.png"))
            page.locator(".ticket-row .row-link").nth(2).click()
            page.wait_for_url("**/tickets/*")
            page.get_by_label("Reply text").type("Hi there, sorry for the trouble! ")
            page.wait_for_timeout(500)
            page.screenshot(path=str(OUT / f"conversation-{name}.png"))
            page.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
