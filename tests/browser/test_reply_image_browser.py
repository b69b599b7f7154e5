"""The composer's "Attach images": an agent picks an image, sends the reply, and the X
emulator receives it uploaded (``POST /2/media/upload``) and named on the tweet
(``media.media_ids``); the conversation shows the image from the desk's storage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.config import get_settings
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database
from socialdesk.web.app import create_app
from socialdesk.web.pages import inbox as inbox_page
from socialdesk.web.serving import serve
from tests.browser.conftest import X_SECRET, Site, seed_users, sign_in
from tests.delivery.reply_images import tiny_png

pytestmark = pytest.mark.browser
SHOT = Path(__file__).parents[2] / "docs" / "screenshots" / "reply-image.png"


@pytest.fixture
def image_site(db: Database, tmp_path: Path) -> Iterator[Site]:
    ids = seed_users(db)
    inbox_page.forget_counts()
    with (
        serve_app(create_x_emulator(X_SECRET, retry_delay_seconds=0.05)) as x_url,
        httpx.Client(base_url=x_url, timeout=30) as x,
    ):
        brand = x.post("/_emulator/users", json={"username": "AcmeSupport"}).json()
        token = x.post("/_emulator/tokens", json={"user_id": brand["id"]}).json()["access_token"]
        settings = get_settings().model_copy(
            update={
                "x_consumer_secret": X_SECRET,
                "x_api_base_url": x_url,
                "attachment_folder": tmp_path / "files",
            }
        )
        with serve(create_app(settings, db)) as url:
            x.put("/_emulator/webhook", json={"url": url + "/hooks/x"})
            yield Site(url, db, ids, x, brand["id"], token)


def test_an_image_attached_in_the_composer_goes_out_with_the_reply(
    browser: Any, image_site: Site, tmp_path: Path
) -> None:
    site = image_site
    site.x_account()
    picture = tmp_path / "which-port.png"
    picture.write_bytes(tiny_png(230, 160, 100))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        sign_in(page, site, "agent@example.com")
        site.customer_tweets("jordan", "@AcmeSupport which port do I plug it in?")
        row = page.locator(".ticket-row", has_text="which port")
        row.wait_for(timeout=10_000)
        row.locator(".row-link").click()
        page.wait_for_url("**/tickets/*")

        page.get_by_label("Reply text").fill("This one, Jordan: the left port.")
        page.get_by_label("Attach images").set_input_files(str(picture))
        page.get_by_role("button", name="Send", exact=True).click()
        reply = page.locator(".msg.outbound", has_text="the left port")
        reply.locator(".delivery", has_text="sent").wait_for(timeout=15_000)
        thumb = reply.locator("img.attachment-thumb")
        thumb.wait_for(state="visible")
        page.wait_for_function(
            "() => { const i = document.querySelector('.msg.outbound img.attachment-thumb');"
            " return i && i.complete && i.naturalWidth === 160; }"
        )

        sent = site.x.get("/_emulator/sent").json()
        media = [e for e in sent if e["endpoint"] == "POST /2/media/upload"]
        [tweet] = site.posted_tweets()
        assert tweet["body"]["media"]["media_ids"] == [m["data"]["id"] for m in media]
        assert media[0]["data"]["size"] == picture.stat().st_size
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOT), full_page=False)
    finally:
        page.close()
