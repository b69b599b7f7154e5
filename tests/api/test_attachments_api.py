"""Attachments end to end: a signed Messenger delivery with an image and a sticker and
no text, an Instagram story mention, over the real webhook path; stored as
``message_attachments`` rows and listed by ``GET /api/v1/tickets/{id}``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.domain.enums import Role
from socialdesk.store.models import MessageAttachment
from tests.channels.shapes_helpers import IG_ID, PAGE_ID, Desk, T, desk

__all__ = ["desk"]

PASSWORD = "correct horse battery"
CUSTOMER = "6543210987654321"
EXPIRED_CDN = "https://scontent.xx.fbcdn.net/v/t1.15752-9/old.jpg?_nc_sid=1&oe=5F000000"
FRESH_CDN = "https://scontent.xx.fbcdn.net/v/t1.15752-9/new.jpg?_nc_sid=1&oe=7F000000"


def _dm(recipient: str, mid: str, **message: Any) -> dict[str, Any]:
    return {
        "id": recipient,
        "time": T,
        "messaging": [
            {
                "sender": {"id": CUSTOMER},
                "recipient": {"id": recipient},
                "timestamp": T * 1000,
                "message": {"mid": mid, **message},
            }
        ],
    }


def _agent_headers(desk: Desk) -> dict[str, str]:
    with desk.db.write() as s:
        create_user(s, "agent@example.com", PASSWORD, Role.AGENT, workspace=ensure_workspace(s))
    r = desk.client.post(
        "/api/v1/auth/token", json={"email": "agent@example.com", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_an_image_dm_without_text_is_listed_with_its_attachments(desk: Desk) -> None:
    desk.post_meta(
        "page",
        _dm(
            PAGE_ID,
            "m_photo",
            attachments=[
                {"type": "image", "payload": {"url": FRESH_CDN}},
                {"type": "image", "payload": {"url": EXPIRED_CDN, "sticker_id": 369239263222822}},
            ],
        ),
    )
    [message] = desk.messages()
    assert message.body == ""
    with desk.db.session() as s:
        rows = list(
            s.scalars(
                select(MessageAttachment)
                .where(MessageAttachment.message_id == message.id)
                .order_by(MessageAttachment.position)
            )
        )
    assert [(r.position, r.kind, r.platform_url) for r in rows] == [
        (0, "image", FRESH_CDN),
        (1, "sticker", EXPIRED_CDN),
    ]

    headers = _agent_headers(desk)
    [ticket] = desk.client.get("/api/v1/tickets", headers=headers).json()["data"]
    assert ticket["subject"] == "[image], [sticker]"  # not blank in the inbox list
    detail = desk.client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).json()
    [listed] = detail["messages"]
    image, sticker = listed["attachments"]
    assert image["kind"] == "image" and image["platform_url"] == FRESH_CDN
    assert image["expires_at"].startswith("2037-") and image["expired"] is False
    assert sticker["kind"] == "sticker" and sticker["expired"] is True  # oe=0x5F000000: 2020


def test_a_story_mention_and_a_thanks_with_a_photo_reopen_nothing_silently(desk: Desk) -> None:
    desk.post_meta(
        "instagram",
        _dm(
            IG_ID,
            "aWdf_story",
            attachments=[{"type": "story_mention", "payload": {"url": FRESH_CDN}}],
        ),
    )
    headers = _agent_headers(desk)
    [ticket] = desk.client.get("/api/v1/tickets", headers=headers).json()["data"]
    detail = desk.client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).json()
    [attachment] = detail["messages"][0]["attachments"]
    assert attachment["kind"] == "story_mention"
    # Solved; then "thanks" with a photo of the damage is more than thanks: it reopens.
    r = desk.client.patch(
        f"/api/v1/tickets/{ticket['id']}", headers=headers, json={"status": "solved"}
    )
    assert r.status_code == 200, r.text
    desk.post_meta(
        "instagram",
        {
            **_dm(
                IG_ID,
                "aWdf_thanks",
                text="Thanks!",
                attachments=[{"type": "image", "payload": {"url": FRESH_CDN}}],
            ),
            "time": T + 60,
        },
    )
    detail = desk.client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).json()
    assert detail["status"] == "open"
