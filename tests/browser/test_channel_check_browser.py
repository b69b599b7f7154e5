"""Connecting a channel confirms it (issue 12: "connecting a channel gives no
confirmation"): the admin pastes a token on Settings → Channels, the desk asks the X
emulator whom it belongs to, and the page says so; a wrong token is called out."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


def _connect(page: Any, handle: str, external_id: str, token: str) -> None:
    page.select_option("#ch-platform", "x")
    page.fill("#ch-handle", handle)
    page.fill("#ch-external", external_id)
    page.fill("#ch-credential", token)
    page.get_by_role("button", name="Connect account").click()
    page.wait_for_url("**/settings/channels?checked=*")


def test_connecting_shows_whom_the_token_belongs_to(browser: Any, site: Site) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    sign_in(page, site, "admin@example.com")
    page.goto(site.url + "/settings/channels")
    _connect(page, "AcmeSupport", site.x_brand_id, site.x_token)
    notice = page.locator("#credential-check")
    assert "credentials confirmed" in notice.inner_text()
    assert f"@AcmeSupport (id {site.x_brand_id})" in notice.inner_text()
    page.screenshot(path="/tmp/channel-check.png", full_page=True)

    # A token of another X user pasted for a second account: accepted by X, flagged here.
    other = site.x.post("/_emulator/users", json={"username": "AgencyLogin"}).json()
    wrong = site.x.post("/_emulator/tokens", json={"user_id": other["id"]}).json()
    _connect(page, "AcmeBilling", "555000", wrong["access_token"])
    notice = page.locator("#credential-check")
    assert "belong to another account" in notice.inner_text()
    assert "@AgencyLogin" in notice.inner_text()
    row = page.locator("tr", has_text="@AcmeBilling")
    assert "Checked: mismatch as @AgencyLogin" in row.inner_text()
    assert wrong["access_token"] not in page.content()
    ctx.close()
