"""Images on replies through the REST API: an agent uploads an image
(``POST /api/v1/uploads``), replies with ``attachment_ids``, the delivery worker sends it
the network's way (an e-mail's MIME part, Mastodon's ``/api/v2/media`` + ``media_ids``)
and the emulator received the image; networks without images refuse with 422."""

from __future__ import annotations

import email
from collections.abc import Callable
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
from tests.delivery.reply_images import mailbox_with_a_customer_mail, tiny_png, upload
from tests.delivery.test_round_trips_via_api import only_ticket

__all__ = ["admin_api"]  # a pytest fixture


def _settled(api: httpx.Client, ticket_id: int) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        detail: dict[str, Any] = api.get(f"/tickets/{ticket_id}").json()
        state = detail["messages"][-1]["delivery_state"]
        return detail if state in ("sent", "failed") else None

    found: dict[str, Any] = eventually(probe)
    return found


def test_email_reply_carries_the_image_as_a_mime_part(
    admin_api: Callable[[Settings], Any], tmp_path: Path
) -> None:
    with MailEmulator() as mail:
        _base, api = admin_api(Settings(attachment_folder=tmp_path))
        mailbox_with_a_customer_mail(api, mail)
        ticket = only_ticket(api, "email")
        image = tiny_png()
        uploaded = upload(api, image, "where-to-look.png")
        assert (uploaded["mime_type"], uploaded["size"]) == ("image/png", len(image))

        sent_reply = api.post(
            f"/tickets/{ticket['id']}/replies",
            json={"body": "The seal is here, see the photo.", "attachment_ids": [uploaded["id"]]},
        )
        assert sent_reply.status_code == 201, sent_reply.text
        detail = _settled(api, ticket["id"])

        answer = detail["messages"][-1]
        assert answer["delivery_state"] == "sent", answer
        [attachment] = answer["attachments"]
        assert (attachment["kind"], attachment["name"], attachment["stored"]) == (
            "image",
            "where-to-look.png",
            True,
        )
        content = api.get(attachment["content_url"].removeprefix("/api/v1"))
        assert content.status_code == 200 and content.content == image
        [sent] = mail.wait_for_sent(1)
        parsed = email.message_from_bytes(sent.message.as_bytes())
        assert parsed.is_multipart()
        parts = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
        assert [p.get_filename() for p in parts] == ["where-to-look.png"]
        assert parts[0].get_payload(decode=True) == image
        # An upload goes out with one reply only.
        again = api.post(
            f"/tickets/{ticket['id']}/replies",
            json={"body": "Once more", "attachment_ids": [uploaded["id"]]},
        )
        assert again.status_code == 422 and "another reply" in again.json()["error"]["reason"]


def test_mastodon_reply_uploads_media_then_posts_with_media_ids(
    admin_api: Callable[[Settings], Any], tmp_path: Path
) -> None:
    with serve_app(create_mastodon_app()) as url, httpx.Client(base_url=url) as instance:
        brand = instance.get(
            "/api/v1/accounts/verify_credentials", headers={"Authorization": "Bearer brand-token"}
        ).json()
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
        instance.post(
            "/_emulator/customer/mention", json={"username": "ana", "text": "which cable?"}
        )
        ticket = only_ticket(api, "mastodon")
        first, second = tiny_png(10), tiny_png(250)
        ids = [upload(api, first)["id"], upload(api, second, "b.png")["id"]]

        created_reply = api.post(
            f"/tickets/{ticket['id']}/replies",
            json={"body": "This one, Ana.", "attachment_ids": ids},
        )
        assert created_reply.status_code == 201, created_reply.text
        answer = _settled(api, ticket["id"])["messages"][-1]
        assert answer["delivery_state"] == "sent", answer
        assert len(answer["attachments"]) == 2

        sent = instance.get("/_emulator/sent").json()
        media = [s for s in sent if s["endpoint"] == "POST /api/v2/media"]
        [status] = [s for s in sent if s["endpoint"] == "POST /api/v1/statuses"]
        assert [m["size"] for m in media] == [len(first), len(second)]
        assert status["params"]["media_ids"] == [m["media"]["id"] for m in media]
        assert [m["id"] for m in status["status"]["media_attachments"]] == [
            m["media"]["id"] for m in media
        ]
        assert status["idempotency_key"]


def test_a_channel_without_images_refuses_with_422(
    admin_api: Callable[[Settings], Any], tmp_path: Path
) -> None:
    _base, api = admin_api(Settings(attachment_folder=tmp_path))
    logged = api.post(
        "/tickets",
        json={"channel": "phone", "summary": "Asked about the cable", "handle_seconds": 60},
    )
    assert logged.status_code == 201, logged.text
    uploaded = upload(api, tiny_png())
    refused = api.post(
        f"/tickets/{logged.json()['id']}/replies",
        json={"body": "Here it is", "attachment_ids": [uploaded["id"]]},
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "images_not_allowed"
    assert "does not allow images" in refused.json()["error"]["reason"]


def test_bad_uploads_are_refused_with_reasons(
    admin_api: Callable[[Settings], Any], tmp_path: Path
) -> None:
    _base, api = admin_api(Settings(attachment_folder=tmp_path, reply_upload_max_bytes=2_000))

    def post(data: bytes, mime: str = "image/png") -> httpx.Response:
        return api.post("/uploads", files={"file": ("x.png", data, mime)})

    # A script named .png and typed image/png is still not an image: typed by its bytes.
    fake = post(b"<script>alert(1)</script>")
    assert fake.status_code == 415 and "PNG, JPEG, GIF or WebP" in fake.json()["error"]["reason"]
    pdf = post(b"%PDF-1.7 ...", "application/pdf")
    assert pdf.status_code == 415 and "application/pdf" in pdf.json()["error"]["reason"]
    empty = post(b"")
    assert empty.status_code == 422 and "empty" in empty.json()["error"]["reason"]
    large = post(tiny_png() + b"\0" * 3_000)
    assert large.status_code == 413 and "2000" in large.json()["error"]["reason"]
    huge = post(b"\0" * 200_000)  # past the request body limit itself
    assert huge.status_code == 413
    missing = api.post("/uploads", data={"workspace_id": "1"})
    assert missing.status_code == 422
    assert (
        api.post("/uploads", files={"file": ("x.png", tiny_png(), "image/png")}).status_code == 201
    )
    unknown = api.post("/tickets/1/replies", json={"body": "x", "attachment_ids": [999]})
    assert unknown.status_code in (404, 422)
    too_many = api.post(
        "/tickets/1/replies", json={"body": "x", "attachment_ids": list(range(1, 12))}
    )
    assert too_many.status_code == 422


def test_bluesky_reply_uploads_blobs_then_embeds_images(
    admin_api: Callable[[Settings], Any], tmp_path: Path
) -> None:
    pds_app = create_bluesky_app()
    with serve_app(pds_app) as pds_url, httpx.Client(base_url=pds_url) as pds:
        _base, api = admin_api(Settings(attachment_folder=tmp_path))
        emulator = pds_app.state.emulator
        connect_bluesky_brand(api, emulator, pds_url)
        mention = pds.post(
            "/_emulator/customer/mention",
            json={"handle": "carol.bsky.social", "text": f"@{emulator.brand_handle} which port?"},
        ).json()
        ticket = only_ticket(api, "bluesky")
        image = tiny_png()
        uploaded = upload(api, image)
        created = api.post(
            f"/tickets/{ticket['id']}/replies",
            json={"body": "The left one, Carol.", "attachment_ids": [uploaded["id"]]},
        )
        assert created.status_code == 201, created.text
        answer = _settled(api, ticket["id"])["messages"][-1]
        assert answer["delivery_state"] == "sent", answer

        sent = pds.get("/_emulator/sent").json()
        [blob] = [s["blob"] for s in sent if s["endpoint"] == "com.atproto.repo.uploadBlob"]
        assert (blob["mimeType"], blob["size"]) == ("image/png", len(image))
        [post] = [s for s in sent if s["endpoint"] == "com.atproto.repo.createRecord"]
        record = post["body"]["record"]
        assert record["reply"]["parent"]["uri"] == mention["uri"]
        assert record["embed"]["$type"] == "app.bsky.embed.images"
        assert [i["image"]["ref"] for i in record["embed"]["images"]] == [blob["ref"]]
        # Too large for Bluesky's 1,000,000-byte blobs: refused before anything is stored.
        big = upload(api, tiny_png() + b"\0" * 1_000_001)
        refused = api.post(
            f"/tickets/{ticket['id']}/replies",
            json={"body": "And this one.", "attachment_ids": [big["id"]], "confirm": True},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "images_not_allowed"
        assert "1000000 bytes" in refused.json()["error"]["reason"]
        # A Bluesky DM carries no images: the same rule, refused by kind.
        dm = api.post(
            f"/tickets/{ticket['id']}/replies",
            json={
                "body": "Privately: here.",
                "visibility": "private",
                "attachment_ids": [big["id"]],
            },
        )
        assert dm.status_code == 422 and "direct message" in dm.json()["error"]["reason"]


def test_x_reply_uploads_media_then_posts_media_ids(
    admin_api: Callable[[Settings], Any], db: Database, tmp_path: Path
) -> None:
    secret = "x-consumer-secret"
    with (
        serve_app(create_x_emulator(secret, retry_delay_seconds=0.05)) as x_url,
        httpx.Client(base_url=x_url) as x,
    ):
        settings = Settings(
            x_consumer_secret=secret, x_api_base_url=x_url, attachment_folder=tmp_path
        )
        base, api = admin_api(settings)
        connect_x_brand(x, db)
        x.put("/_emulator/webhook", json={"url": base + "/hooks/x"})
        tweet = x.post(
            "/_emulator/customer/mention",
            json={"customer": {"username": "sam_k"}, "text": "@AcmeSupport which screw?"},
        ).json()["tweet"]
        ticket = only_ticket(api, "x")
        ids = [upload(api, tiny_png(1))["id"], upload(api, tiny_png(2))["id"]]
        # A DM on X takes one image: the descriptor's rule, before anything is stored.
        dm = api.post(
            f"/tickets/{ticket['id']}/replies",
            json={"body": "Both here.", "visibility": "private", "attachment_ids": ids},
        )
        assert dm.status_code == 422 and "at most 1 image" in dm.json()["error"]["reason"]

        created = api.post(
            f"/tickets/{ticket['id']}/replies",
            json={"body": "This one, Sam.", "attachment_ids": ids},
        )
        assert created.status_code == 201, created.text
        answer = _settled(api, ticket["id"])["messages"][-1]
        assert answer["delivery_state"] == "sent", answer

        sent = x.get("/_emulator/sent").json()
        media = [s for s in sent if s["endpoint"] == "POST /2/media/upload"]
        [post] = [s for s in sent if s["endpoint"] == "POST /2/tweets"]
        assert [m["media_category"] for m in media] == ["tweet_image", "tweet_image"]
        assert post["body"]["media"]["media_ids"] == [m["data"]["id"] for m in media]
        assert post["body"]["reply"]["in_reply_to_tweet_id"] == tweet["id_str"]


def test_x_dm_carries_one_image_as_a_dm_attachment(
    admin_api: Callable[[Settings], Any], db: Database, tmp_path: Path
) -> None:
    secret = "x-consumer-secret"
    with (
        serve_app(create_x_emulator(secret, retry_delay_seconds=0.05)) as x_url,
        httpx.Client(base_url=x_url) as x,
    ):
        settings = Settings(
            x_consumer_secret=secret, x_api_base_url=x_url, attachment_folder=tmp_path
        )
        base, api = admin_api(settings)
        connect_x_brand(x, db)
        x.put("/_emulator/webhook", json={"url": base + "/hooks/x"})
        x.post(
            "/_emulator/customer/dm",
            json={"customer": {"username": "lee_k"}, "text": "which charger fits?"},
        ).raise_for_status()
        ticket = only_ticket(api, "x")
        image = tiny_png(90)
        created = api.post(
            f"/tickets/{ticket['id']}/replies",
            json={"body": "This one, Lee.", "attachment_ids": [upload(api, image)["id"]]},
        )
        assert created.status_code == 201, created.text
        answer = _settled(api, ticket["id"])["messages"][-1]
        assert (answer["delivery_state"], answer["visibility"]) == ("sent", "private"), answer

        sent = x.get("/_emulator/sent").json()
        [media] = [s for s in sent if s["endpoint"] == "POST /2/media/upload"]
        [dm] = [s for s in sent if s["endpoint"].startswith("POST /2/dm_conversations")]
        assert (media["media_category"], media["data"]["size"]) == ("dm_image", len(image))
        assert dm["body"] == {
            "text": "This one, Lee.",
            "attachments": [{"media_id": media["data"]["id"]}],
        }
