"""/docs works with no internet: Swagger UI's files come from our own server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Site

pytestmark = pytest.mark.browser


def test_api_docs_render_from_local_files(browser: Any, site: Site) -> None:
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(site.url + "/docs")
    page.locator(".swagger-ui .info .title").wait_for(timeout=15_000)
    assert "socialdesk" in page.locator(".swagger-ui .info .title").inner_text()
    # Every operation of the API is listed, e.g. the ticket list.
    page.locator(".opblock-summary-path", has_text="/api/v1/tickets").first.wait_for()
    # Nothing was fetched from anywhere but our own server.
    assert requested and all(url.startswith(site.url) for url in requested), requested
    page.close()


def test_redoc_renders_from_local_files(browser: Any, site: Site) -> None:
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(site.url + "/redoc")
    page.get_by_role("heading", name="socialdesk").first.wait_for(timeout=15_000)
    # ReDoc's "powered by" logo is an image on its CDN: cosmetic, and missing offline.
    needed = [url for url in requested if not url.endswith(".svg") and not url.startswith("blob:")]
    assert needed and all(url.startswith(site.url) for url in needed), requested
    page.close()
