"""A Messenger photo fetched from the Meta emulator's CDN into the desk's storage, seen in
a real browser: the thumbnail comes from the desk's own signed-in route, not the network
(whose plain-HTTP loopback address the page's CSP would not even load)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.channels.meta.emulator import create_meta_emulator
from socialdesk.channels.signatures import meta_signature
from socialdesk.config import get_settings
from socialdesk.domain.enums import Platform
from socialdesk.emulators.server import serve_app
from socialdesk.pipeline.attachment_fetch import AttachmentFetchWorker, FetchPolicy
from socialdesk.store.db import Database
from socialdesk.store.file_storage import storage_from_settings
from socialdesk.store.models import MessageAttachment, Ticket
from socialdesk.web.app import create_app
from socialdesk.web.pages import inbox as inbox_page
from socialdesk.web.serving import serve
from tests.browser.conftest import Site, seed_users, sign_in
from tests.browser.test_attachments_browser import _png

SECRET = "browser-stored-app-secret"
PAGE_ID = "1029384756"


@pytest.fixture
def stored_site(db: Database, tmp_path: Path) -> Iterator[tuple[Site, httpx.Client, httpx.Client]]:
    ids = seed_users(db)
    inbox_page.forget_counts()
    with db.write() as s:
        create_channel_account(
            s,
            None,
            workspace_id=ensure_workspace(s).id,
            platform=Platform.MESSENGER,
            handle="Acme",
            external_id=PAGE_ID,
        )
    settings = get_settings().model_copy(
        update={
            "meta_app_secret": SECRET,
            "attachment_folder": tmp_path / "files",
            "attachment_fetch": False,
        }
    )
    with (
        serve_app(create_meta_emulator(SECRET)) as cdn_url,
        httpx.Client(base_url=cdn_url, timeout=30) as cdn,
        serve(create_app(settings, db)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield Site(url, db, ids, cdn, "", ""), cdn, client


def test_a_fetched_photo_shows_from_the_desks_storage(
    browser: Any, stored_site: tuple[Site, httpx.Client, httpx.Client], tmp_path: Path
) -> None:
    site, cdn, desk = stored_site
    r = cdn.post(
        "/_emulator/media",
        json={
            "name": "dent.png",
            "content_type": "image/png",
            "data_base64": base64.b64encode(_png(180, 120)).decode(),
        },
    )
    photo_url = r.json()["url"]
    raw = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE_ID,
                    "time": 1_764_950_400,
                    "messaging": [
                        {
                            "sender": {"id": "6543210987654321"},
                            "recipient": {"id": PAGE_ID},
                            "timestamp": 1_764_950_400_000,
                            "message": {
                                "mid": "m_dent",
                                "text": "The box arrived like this",
                                "attachments": [{"type": "image", "payload": {"url": photo_url}}],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    r = desk.post(
        "/hooks/meta",
        content=raw,
        headers={
            "content-type": "application/json",
            "X-Hub-Signature-256": meta_signature(SECRET, raw),
        },
    )
    assert r.status_code == 200
    worker = AttachmentFetchWorker(
        site.db,
        storage_from_settings(
            get_settings().model_copy(update={"attachment_folder": tmp_path / "files"})
        ),
        FetchPolicy(private_hosts=True),  # the emulator's CDN is on loopback
    )
    for _ in range(100):
        worker.run_pass()
        with site.db.session() as s:
            stored = s.scalar(
                select(MessageAttachment.id).where(MessageAttachment.stored_key.is_not(None))
            )
        if stored:
            break
        time.sleep(0.1)
    assert stored is not None
    with site.db.session() as s:
        ticket_id = s.scalar(select(Ticket.id))
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        sign_in(page, site, "agent@example.com")
        page.goto(f"{site.url}/tickets/{ticket_id}")
        thumb = page.locator("li.msg img.attachment-thumb")
        thumb.wait_for(state="visible")
        assert thumb.get_attribute("src") == f"/attachments/{stored}/content"
        page.wait_for_function(
            "() => { const i = document.querySelector('img.attachment-thumb');"
            " return i && i.complete && i.naturalWidth === 180; }"
        )
        # Looked at by hand when this changes: the message text above an orange 180x120 thumbnail.
        page.locator("li.msg").first.screenshot(path=str(tmp_path / "stored.png"))
    finally:
        page.close()
