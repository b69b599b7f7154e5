"""Images on replies through both doors: a Messenger ticket refuses an image its network
does not take (a WebP, an image over 8 MB) with the same 422 reason from the API and
from the conversation page, whose composer names Messenger's own limits; a file that is
not an image is refused by its bytes at either door, and nothing is stored."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.config import get_settings
from socialdesk.domain.enums import Platform, Role, Visibility
from socialdesk.domain.messages import Author, InboundMessage
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import Message, Upload
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from tests.delivery.reply_images import tiny_png
from tests.pipeline.helpers import ingest

PASSWORD = "correct horse battery"


@pytest.fixture
def served(db: Database, tmp_path: Path) -> Iterator[tuple[str, int]]:
    with db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, "agent@example.com", PASSWORD, Role.AGENT, name="Agent", workspace=ws)
        account = create_channel_account(
            s, None, workspace_id=ws.id, platform=Platform.MESSENGER, handle="Acme",
            external_id="1065403",
        ).id  # fmt: skip
    ingest(
        db,
        InboundMessage(
            channel_account_id=account,
            platform=Platform.MESSENGER,
            platform_message_id="m_in",
            author=Author("4915112345", handle="+4915112345", display_name="Jonas"),
            body="Which cable?",
            created_at=utcnow(),
            visibility=Visibility.PRIVATE,
            conversation_id="1065403:4915112345",
        ),
    )
    with db.session() as s:
        ticket_id = int(s.scalar(select(Message.ticket_id).limit(1)) or 0)
    settings = get_settings().model_copy(
        update={"run_workers": False, "attachment_folder": tmp_path / "files"}
    )
    with serve(create_app(settings, db)) as url:
        yield url, ticket_id


def _api(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url + "/api/v1", timeout=30)
    token = client.post("/auth/token", json={"email": "agent@example.com", "password": PASSWORD})
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


def _page(url: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url, timeout=30)
    login = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert login
    client.post(
        "/login",
        data={"email": "agent@example.com", "password": PASSWORD, "csrf_token": login[1]},
    )
    csrf = re.search(r'data-csrf="([^"]+)"', client.get("/inbox").text)
    assert csrf
    return client, csrf[1]


def _counts(db: Database, ticket_id: int) -> tuple[int, int]:
    with db.session() as s:
        replies = s.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.ticket_id == ticket_id, Message.direction == "outbound")
        )
        uploads = s.scalar(select(func.count()).select_from(Upload))
        return int(replies or 0), int(uploads or 0)


WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(20)


@pytest.mark.parametrize(
    ("image", "mime", "reason"),
    [
        (WEBP, "image/webp", "Messenger does not take image/webp images"),
        (tiny_png() + bytes(8_000_001), "image/png", "Messenger takes images up to 8000000"),
    ],
)
def test_an_image_messenger_does_not_take_is_refused_alike_through_api_and_page(
    served: tuple[str, int], db: Database, image: bytes, mime: str, reason: str
) -> None:
    url, ticket_id = served
    api = _api(url)
    page, csrf = _page(url)
    uploaded = api.post("/uploads", files={"file": ("a.img", image, mime)})
    assert uploaded.status_code == 201, uploaded.text

    by_api = api.post(
        f"/tickets/{ticket_id}/replies",
        json={"body": "This one", "attachment_ids": [uploaded.json()["id"]]},
    )
    by_page = page.post(
        f"/tickets/{ticket_id}/reply",
        data={"body": "This one", "kind": "dm", "csrf_token": csrf},
        files={"images": ("a.img", image, mime)},
    )
    assert by_api.status_code == by_page.status_code == 422
    assert by_api.json()["error"]["code"] == "images_not_allowed"
    refusal = by_api.json()["error"]["reason"]
    assert refusal.startswith(reason)
    assert refusal in html.unescape(by_page.text)
    # The page's refusal rolled its upload back with the reply: only the API's is left.
    assert _counts(db, ticket_id) == (0, 1)
    composer = html.unescape(page.get(f"/tickets/{ticket_id}").text)
    assert 'name="images"' in composer
    assert "Up to 4 PNG, JPEG or GIF images of 8 MB at most, on direct messages" in composer


def test_a_file_that_is_not_an_image_is_refused_by_its_bytes_at_both_doors(
    served: tuple[str, int], db: Database
) -> None:
    url, ticket_id = served
    api = _api(url)
    page, csrf = _page(url)
    fake = ("photo.png", b"<svg onload=alert(1)>", "image/png")
    by_api = api.post("/uploads", files={"file": fake})
    by_page = page.post(
        f"/tickets/{ticket_id}/reply",
        data={"body": "See attached", "kind": "dm", "csrf_token": csrf},
        files={"images": fake},
    )
    assert by_api.status_code == by_page.status_code == 415
    reason = by_api.json()["error"]["reason"]
    assert "only PNG, JPEG, GIF or WebP images" in reason
    assert reason in html.unescape(by_page.text)
    assert _counts(db, ticket_id) == (0, 0)
    # No file chosen: the composer's empty file part is no image, the reply goes out.
    plain = page.post(
        f"/tickets/{ticket_id}/reply",
        data={"body": "The grey one", "kind": "dm", "csrf_token": csrf},
        files={"images": ("", b"", "application/octet-stream")},
    )
    assert plain.status_code in (200, 303), plain.text
    assert _counts(db, ticket_id) == (1, 0)
