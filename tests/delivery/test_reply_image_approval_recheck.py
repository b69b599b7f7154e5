"""Approving a draft with an image checks the network's rule again: on WhatsApp the
reply's text is the image's caption (1,024 characters), so a lead's edit that makes it
longer is refused (422, the draft still pending), and the unedited draft goes out as
one image message with its caption."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.actions.inbox import set_posting_right
from socialdesk.channels.whatsapp.emulator import create_whatsapp_emulator
from socialdesk.config import Settings
from socialdesk.domain.enums import Role
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database
from socialdesk.store.models import User
from tests.delivery.helpers import PASSWORD, admin_api, eventually
from tests.delivery.reply_images import tiny_png, upload
from tests.delivery.test_whatsapp_round_trip import (
    APP_SECRET,
    CUSTOMER,
    NUMBER_ID,
    TEMPLATES,
    TOKEN,
    Desk,
)

__all__ = ["admin_api"]  # a pytest fixture


@pytest.fixture
def wa(
    admin_api: Callable[[Settings], Any], db: Database, tmp_path: Path
) -> Iterator[tuple[Desk, httpx.Client]]:
    """The WhatsApp desk (admin API) and an agent's API client without posting rights."""
    with (
        serve_app(create_whatsapp_emulator(APP_SECRET, status_delay_seconds=0.2)) as wa_url,
        httpx.Client(base_url=wa_url, timeout=30) as emulator,
    ):
        emulator.post(
            "/_emulator/numbers",
            json={"phone_number_id": NUMBER_ID, "access_token": TOKEN, "templates": TEMPLATES},
        )
        settings = Settings(
            meta_app_secret=APP_SECRET,
            meta_verify_token="vt",
            meta_graph_base_url=wa_url,
            attachment_folder=tmp_path,
        )
        base, api = admin_api(settings)
        created = api.post(
            "/channel-accounts",
            json={
                "platform": "whatsapp",
                "handle": "+1 555 000 0000",
                "external_id": NUMBER_ID,
                "secrets": {"access_token": TOKEN},
                "settings": {"templates": TEMPLATES},
            },
        )
        assert created.status_code == 201, created.text
        emulator.put("/_emulator/webhook", json={"url": base + "/hooks/whatsapp"})
        with db.write() as s:
            agent = create_user(
                s, "agent@example.com", PASSWORD, Role.AGENT, workspace=ensure_workspace(s)
            )
            admin = s.scalar(select(User).where(User.email == "admin@example.com"))
            assert admin is not None
            set_posting_right(s, admin, agent, created.json()["id"], False)
        client = httpx.Client(base_url=base + "/api/v1", timeout=30)
        token = client.post(
            "/auth/token", json={"email": "agent@example.com", "password": PASSWORD}
        )
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield Desk(api, emulator), client


def test_approval_checks_the_caption_again_then_sends_the_image(
    wa: tuple[Desk, httpx.Client],
) -> None:
    desk, agent = wa
    desk.customer_writes("Which cable do I need?")
    ticket = desk.ticket()
    image = tiny_png(12)
    uploaded = upload(agent, image, "cable.png")
    drafted = agent.post(
        f"/tickets/{ticket['id']}/replies",
        json={"body": "This one, see the photo.", "attachment_ids": [uploaded["id"]]},
    )
    assert drafted.status_code == 202, drafted.text
    draft_id = drafted.json()["id"]

    too_long = desk.api.post(f"/approvals/{draft_id}/approve", json={"body": "y" * 1025})
    assert too_long.status_code == 422, too_long.text
    assert too_long.json()["error"]["code"] == "images_not_allowed"
    assert "1024 characters" in too_long.json()["error"]["reason"]
    [pending] = desk.api.get("/approvals").json()
    assert pending["id"] == draft_id and pending["body"] == "This one, see the photo."
    assert [a["upload_id"] for a in pending["attachments"]] == [uploaded["id"]]
    assert desk.sent() == []

    approved = desk.api.post(f"/approvals/{draft_id}/approve", json={})
    assert approved.status_code == 200, approved.text
    [sent] = eventually(desk.sent)
    assert (sent["to"], sent["type"]) == (CUSTOMER, "image")
    assert sent["image"]["caption"] == "This one, see the photo."
    media = desk.wa.get("/_emulator/media").json()
    assert media[sent["image"]["id"]]["size"] == len(image)
