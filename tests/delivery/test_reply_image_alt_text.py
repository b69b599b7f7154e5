"""An image's description (alt text) on a reply, per network, over real HTTP against the
emulators: X sets it with ``POST /2/media/metadata`` before the tweet names the media,
Bluesky puts it in each ``app.bsky.embed.images`` item's ``alt``, an e-mail carries it as
the image part's ``Content-Description``; Mastodon's ``description`` is in
test_reply_image_approvals.py. Each network's limit is refused with a clear 422."""

from __future__ import annotations

import email
from collections.abc import Callable
from email import policy
from pathlib import Path
from typing import Any

import httpx

from socialdesk.channels.bluesky.emulator import create_bluesky_app
from socialdesk.channels.email.emulator import MailEmulator
from socialdesk.channels.mastodon.emulator import create_mastodon_app
from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.config import Settings
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database
from tests.delivery.helpers import admin_api, connect_bluesky_brand, connect_x_brand, eventually
from tests.delivery.reply_images import mailbox_with_a_customer_mail, tiny_png
from tests.delivery.test_round_trips_via_api import only_ticket

__all__ = ["admin_api"]  # a pytest fixture


def _upload(api: httpx.Client, data: bytes, alt: str | None) -> httpx.Response:
    fields = {"alt_text": alt} if alt is not None else None
    return api.post("/uploads", files={"file": ("photo.png", data, "image/png")}, data=fields)


def _uploaded(api: httpx.Client, data: bytes, alt: str | None = None) -> int:
    response = _upload(api, data, alt)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _settled(api: httpx.Client, ticket_id: int) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        last: dict[str, Any] = api.get(f"/tickets/{ticket_id}").json()["messages"][-1]
        return last if last["delivery_state"] in ("sent", "failed") else None

    found: dict[str, Any] = eventually(probe)
    return found


def _refused(api: httpx.Client, ticket_id: int, upload_id: int, **extra: Any) -> str:
    response = api.post(
        f"/tickets/{ticket_id}/replies",
        json={"body": "Look.", "attachment_ids": [upload_id], "confirm": True, **extra},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "images_not_allowed"
    return str(response.json()["error"]["reason"])


def test_x_sets_alt_text_as_media_metadata_and_refuses_over_1000(
    admin_api: Callable[[Settings], Any], db: Database, tmp_path: Path
) -> None:
    secret = "x-consumer-secret"
    with (
        serve_app(create_x_emulator(secret, retry_delay_seconds=0.05)) as x_url,
        httpx.Client(base_url=x_url, timeout=30) as x,
    ):
        settings = Settings(
            x_consumer_secret=secret, x_api_base_url=x_url, attachment_folder=tmp_path
        )
        base, api = admin_api(settings)
        connect_x_brand(x, db)
        x.put("/_emulator/webhook", json={"url": base + "/hooks/x"})
        x.post(
            "/_emulator/customer/mention",
            json={"customer": {"username": "sam_k"}, "text": "@AcmeSupport which screw?"},
        ).raise_for_status()
        ticket_id = only_ticket(api, "x")["id"]
        long_alt = _uploaded(api, tiny_png(3), "x" * 1001)
        reason = _refused(api, ticket_id, long_alt)
        assert "up to 1000 characters" in reason and "1001" in reason

        described = _uploaded(api, tiny_png(1), "A silver M4 screw, 12 mm")
        plain = _uploaded(api, tiny_png(2))
        created = api.post(
            f"/tickets/{ticket_id}/replies",
            json={"body": "This one, Sam.", "attachment_ids": [described, plain]},
        )
        assert created.status_code == 201, created.text
        assert _settled(api, ticket_id)["delivery_state"] == "sent"

        sent = x.get("/_emulator/sent").json()
        media = [s for s in sent if s["endpoint"] == "POST /2/media/upload"]
        [metadata] = [s for s in sent if s["endpoint"] == "POST /2/media/metadata"]
        [post] = [s for s in sent if s["endpoint"] == "POST /2/tweets"]
        assert metadata["media_id"] == media[0]["data"]["id"]
        assert metadata["alt_text"] == "A silver M4 screw, 12 mm"
        assert post["body"]["media"]["media_ids"] == [m["data"]["id"] for m in media]
        # The emulator holds X's own limit too (a connector that skipped ours would fail).
        token = x.post("/_emulator/tokens", json={"user_id": media[0]["user_id"]}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        too_long = x.post(
            "/2/media/metadata",
            json={"id": media[1]["data"]["id"], "metadata": {"alt_text": {"text": "y" * 1001}}},
            headers=headers,
        )
        assert too_long.status_code == 400


def test_bluesky_puts_alt_text_in_the_images_embed(
    admin_api: Callable[[Settings], Any], tmp_path: Path
) -> None:
    pds_app = create_bluesky_app()
    with serve_app(pds_app) as pds_url, httpx.Client(base_url=pds_url, timeout=30) as pds:
        _base, api = admin_api(Settings(attachment_folder=tmp_path))
        emulator = pds_app.state.emulator
        connect_bluesky_brand(api, emulator, pds_url)
        pds.post(
            "/_emulator/customer/mention",
            json={"handle": "carol.bsky.social", "text": f"@{emulator.brand_handle} which port?"},
        ).raise_for_status()
        ticket_id = only_ticket(api, "bluesky")["id"]
        # Past the longest any network takes: refused at the upload.
        huge = _upload(api, tiny_png(), "z" * 2001)
        assert huge.status_code == 422 and "2000 characters" in huge.json()["error"]["reason"]

        ids = [
            _uploaded(api, tiny_png(4), "The left port, marked USB-C"),
            _uploaded(api, tiny_png(5)),
        ]
        created = api.post(
            f"/tickets/{ticket_id}/replies",
            json={"body": "The left one, Carol.", "attachment_ids": ids},
        )
        assert created.status_code == 201, created.text
        assert _settled(api, ticket_id)["delivery_state"] == "sent"
        sent = pds.get("/_emulator/sent").json()
        [post] = [s for s in sent if s["endpoint"] == "com.atproto.repo.createRecord"]
        images = post["body"]["record"]["embed"]["images"]
        assert [i["alt"] for i in images] == ["The left port, marked USB-C", ""]


def test_mastodon_refuses_a_description_over_1500(
    admin_api: Callable[[Settings], Any], tmp_path: Path
) -> None:
    with serve_app(create_mastodon_app()) as url, httpx.Client(base_url=url, timeout=30) as inst:
        token = {"Authorization": "Bearer brand-token"}
        brand = inst.get("/api/v1/accounts/verify_credentials", headers=token).json()
        _base, api = admin_api(Settings(attachment_folder=tmp_path))
        created = api.post(
            "/channel-accounts",
            json={
                "platform": "mastodon",
                "handle": f"{brand['username']}@mastodon.example",
                "external_id": brand["id"],
                "secrets": {"access_token": "brand-token"},
                "settings": {"base_url": url, "poll_interval_seconds": 0.2},
            },
        )
        assert created.status_code == 201, created.text
        inst.post("/_emulator/customer/mention", json={"username": "ana", "text": "which?"})
        ticket_id = only_ticket(api, "mastodon")["id"]
        reason = _refused(api, ticket_id, _uploaded(api, tiny_png(), "d" * 1501))
        assert "up to 1500 characters" in reason
        # The instance refuses it as well: its own description limit.
        refused = inst.post(
            "/api/v2/media",
            files={"file": ("a.png", tiny_png(), "image/png")},
            data={"description": "d" * 1501},
            headers=token,
        )
        assert refused.status_code == 422 and "maximum is 1500" in refused.json()["error"]


def test_email_carries_alt_text_as_the_parts_content_description(
    admin_api: Callable[[Settings], Any], tmp_path: Path
) -> None:
    with MailEmulator() as mail:
        _base, api = admin_api(Settings(attachment_folder=tmp_path))
        mailbox_with_a_customer_mail(api, mail)
        ticket_id = only_ticket(api, "email")["id"]
        reason = _refused(api, ticket_id, _uploaded(api, tiny_png(), "e" * 1001))
        assert "up to 1000 characters" in reason
        upload_id = _uploaded(api, tiny_png(6), "The seal, café-brown,\nunder the lid")
        sent_reply = api.post(
            f"/tickets/{ticket_id}/replies",
            json={"body": "The seal is here.", "attachment_ids": [upload_id]},
        )
        assert sent_reply.status_code == 201, sent_reply.text
        assert _settled(api, ticket_id)["delivery_state"] == "sent"
        [sent] = mail.wait_for_sent(1)
        parsed = email.message_from_bytes(sent.message.as_bytes(), policy=policy.default)
        [part] = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
        assert str(part["Content-Description"]) == "The seal, café-brown, under the lid"
