"""Every page at laptop and tablet width: nothing runs off the side of the screen, and
every control a keyboard or screen-reader user can reach has a name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Site, sign_in
from tests.pipeline.helpers import ingest, make_account, post

WIDTHS = {"laptop": (1366, 820), "tablet": (820, 1100), "phone": (390, 844)}
PAGES = [
    "/inbox",
    "/inbox?view=open&sort=urgent",
    "/tickets/{ticket}",
    "/queue",
    "/reports",
    "/approvals",
    "/notifications",
    "/settings",
    "/settings/channels",
    "/settings/users",
    "/settings/teams",
    "/settings/rules",
    "/settings/sla",
    "/settings/audit",
    "/settings/deliveries",
]

# Controls without an accessible name: no <label>, aria-label(ledby), title or text.
UNNAMED = """() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
    && !el.getAttribute('aria-labelledby') && !el.getAttribute('title')
    && !(el.textContent || '').trim() && !(el.value && el.type === 'submit'))
  .map(el => el.outerHTML.slice(0, 120))"""

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.mark.parametrize("width_name", sorted(WIDTHS))
def test_pages_fit_the_screen_and_name_their_controls(
    browser: Any, site: Site, width_name: str
) -> None:
    account = make_account(site.db)
    ingest(site.db, post(account, "p1", "My order #4411 never arrived 😤 can you check?"))
    width, height = WIDTHS[width_name]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    sign_in(page, site, "admin@example.com")
    problems: list[str] = []
    for path in PAGES:
        response = page.goto(site.url + path.format(ticket=1))
        assert response is not None and response.status == 200, path
        overflow = page.evaluate(OVERFLOW)
        if overflow > 1:
            problems.append(f"{path}: {overflow}px wider than the {width}px screen")
        problems += [f"{path}: unnamed control {html}" for html in page.evaluate(UNNAMED)]
    context.close()
    assert problems == [], "\n".join(problems)


def test_on_a_phone_the_ticket_list_comes_first(browser: Any, site: Site, tmp_path: Path) -> None:
    """With as many accounts as the demo (76), the first ticket is on the first screen
    of a 390 px phone and the views, channels and accounts follow the list."""
    accounts = [make_account(site.db, handle=f"Brand{i:02d}") for i in range(76)]
    ingest(site.db, post(accounts[0], "p1", "My order #4411 never arrived, can you check?"))
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, site, "agent@example.com")
    page.goto(site.url + "/inbox")
    first = page.locator(".ticket-row").first.bounding_box()
    views = page.locator(".sidebar").bounding_box()
    page.screenshot(path=str(tmp_path / "inbox-phone.png"))
    context.close()
    assert first is not None and views is not None
    assert first["y"] + 40 < 844, f"first ticket starts at {first['y']:.0f}px"
    assert views["y"] > first["y"]
