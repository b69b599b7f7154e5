"""Images on replies where Meta sends text and image in one call: a Facebook Page
comment reply carries one photo as multipart ``source`` beside its ``message``; a
WhatsApp reply is one image message (``/media`` upload, then ``type: image`` with the
text as caption). The agent uploads, replies with ``attachment_ids``, and the emulator
holds the image with the text; a Facebook worker that dies after Meta's answer is
resumed without a second comment (the read-back by text, as for text replies).
Messenger and Instagram DMs are in ``test_reply_images_meta_dm``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialdesk.channels.whatsapp.emulator import create_whatsapp_emulator
from socialdesk.config import Settings
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database
from tests.delivery.helpers import admin_api, eventually
from tests.delivery.meta_desk import MetaDesk, open_meta_desk
from tests.delivery.reply_images import tiny_png, upload
from tests.delivery.test_whatsapp_round_trip import (
    APP_SECRET,
    CUSTOMER,
    DAY,
    NUMBER_ID,
    TEMPLATES,
    TOKEN,
    Desk,
)

__all__ = ["admin_api"]  # a pytest fixture

COMMENTS = "POST /{id}/comments"


@pytest.fixture
def desk(db: Database, tmp_path: Path) -> Iterator[MetaDesk]:
    with open_meta_desk(db, attachment_folder=tmp_path) as opened:
        yield opened


def _facebook_ticket(desk: MetaDesk) -> dict[str, object]:
    desk.customer("page_comment", customer={"name": "Lucía"}, message="Which filter fits?")
    return desk.only_ticket("facebook")


def test_facebook_comment_reply_carries_the_photo_with_its_text(desk: MetaDesk) -> None:
    ticket = _facebook_ticket(desk)
    image = tiny_png()
    uploaded = upload(desk.api, image, "filter.png")

    created = desk.api.post(
        f"/tickets/{ticket['id']}/replies",
        json={"body": "This one, see the photo.", "attachment_ids": [uploaded["id"]]},
    )
    assert created.status_code == 201, created.text
    answer = desk.settled(int(str(ticket["id"])))

    assert answer["delivery_state"] == "sent", answer
    [post] = desk.sent(COMMENTS)
    assert post["body"]["message"] == "This one, see the photo."
    stored = desk.meta.get(f"/_emulator/comments/{post['id']}").json()
    assert stored["text"] == "This one, see the photo."
    assert stored["image"] == {
        "kind": "photo",
        "mime_type": "image/png",
        "size": len(image),
        "sha256": hashlib.sha256(image).hexdigest(),
    }
    assert answer["platform_message_id"] == post["id"]


def test_a_retry_after_a_lost_answer_posts_the_photo_comment_once(desk: MetaDesk) -> None:
    desk.configure(echo="off")  # only the read-back can tell the reply went out
    ticket = _facebook_ticket(desk)
    uploaded = upload(desk.api, tiny_png())
    desk.crash.armed = True

    created = desk.api.post(
        f"/tickets/{ticket['id']}/replies",
        json={"body": "The grey one.", "attachment_ids": [uploaded["id"]]},
    )
    assert created.status_code == 201, created.text
    eventually(lambda: desk.crash.crashes == 1 and len(desk.sent(COMMENTS)) == 1)
    assert desk.last_answer(int(str(ticket["id"])))["delivery_state"] == "sending"

    assert desk.restarted_worker_pass() == 1

    [post] = desk.sent(COMMENTS)  # found on Meta, not posted again
    assert post["body"]["image"]["mime_type"] == "image/png"
    answer = desk.last_answer(int(str(ticket["id"])))
    assert (answer["delivery_state"], answer["platform_message_id"]) == ("sent", post["id"])


def test_a_second_photo_or_a_dm_photo_is_refused(desk: MetaDesk) -> None:
    ticket = _facebook_ticket(desk)
    first, second = upload(desk.api, tiny_png(10)), upload(desk.api, tiny_png(20))

    two = desk.api.post(
        f"/tickets/{ticket['id']}/replies",
        json={"body": "Both of these.", "attachment_ids": [first["id"], second["id"]]},
    )
    assert two.status_code == 422, two.text
    assert two.json()["error"]["code"] == "images_not_allowed"
    assert "at most 1 image" in two.json()["error"]["reason"]

    # A private answer on a Facebook ticket is a Messenger message: text only.
    private = desk.api.post(
        f"/tickets/{ticket['id']}/replies",
        json={"body": "Sent you a DM.", "visibility": "private", "attachment_ids": [first["id"]]},
    )
    assert private.status_code == 422, private.text
    assert private.json()["error"]["code"] == "images_not_allowed"
    assert desk.sent(COMMENTS) == []


def test_the_emulator_refuses_a_bad_photo_the_graph_way(desk: MetaDesk) -> None:
    comment = desk.customer("page_comment", customer={"name": "Bo"}, message="Photo?")
    token = desk.meta.post("/_emulator/tokens", json={"account_id": desk.page_id}).json()
    answer = desk.meta.post(
        f"/v21.0/{comment['comment_id']}/comments",
        data={"message": "Here"},
        files={"source": ("notes.txt", b"not a photo at all", "image/png")},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["error_subcode"]) == (100, 1366046)
    assert desk.sent(COMMENTS) == []


# -- WhatsApp ------------------------------------------------------------------------


@pytest.fixture
def wa_desk(admin_api: Callable[[Settings], Any], tmp_path: Path) -> Iterator[Desk]:
    with (
        serve_app(create_whatsapp_emulator(APP_SECRET, status_delay_seconds=0.2)) as wa_url,
        httpx.Client(base_url=wa_url) as wa,
    ):
        wa.post(
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
        wa.put("/_emulator/webhook", json={"url": base + "/hooks/whatsapp"})
        yield Desk(api, wa)


def test_whatsapp_reply_is_one_image_message_with_the_text_as_caption(wa_desk: Desk) -> None:
    wa_desk.customer_writes("Which cable do I need?")
    ticket = wa_desk.ticket()
    image = tiny_png()
    uploaded = upload(wa_desk.api, image, "cable.png")

    created = wa_desk.api.post(
        f"/tickets/{ticket['id']}/replies",
        json={"body": "This one, see the photo.", "attachment_ids": [uploaded["id"]]},
    )
    assert created.status_code == 201, created.text

    [sent] = eventually(wa_desk.sent)
    assert (sent["to"], sent["type"]) == (CUSTOMER, "image")
    assert sent["image"]["caption"] == "This one, see the photo."
    media = wa_desk.wa.get("/_emulator/media").json()
    stored = media[sent["image"]["id"]]
    assert (stored["mime_type"], stored["size"]) == ("image/png", len(image))
    assert stored["sha256"] == hashlib.sha256(image).hexdigest()
    assert stored["sent_with"] == [sent["id"]]

    def delivered() -> dict[str, Any] | None:
        out = wa_desk.messages(ticket["id"])[-1]
        return out if out["network_status"] == "delivered" else None

    out = eventually(delivered)
    assert (out["delivery_state"], out["platform_message_id"]) == ("sent", sent["id"])
    assert [a["name"] for a in out["attachments"]] == ["cable.png"]


def test_whatsapp_refuses_a_second_image_a_long_caption_and_a_template(wa_desk: Desk) -> None:
    wa_desk.customer_writes("Photo please")
    ticket = wa_desk.ticket()
    replies = f"/tickets/{ticket['id']}/replies"
    first, second = upload(wa_desk.api, tiny_png(10)), upload(wa_desk.api, tiny_png(20))

    two = wa_desk.api.post(
        replies, json={"body": "Both", "attachment_ids": [first["id"], second["id"]]}
    )
    assert two.status_code == 422, two.text
    assert two.json()["error"]["code"] == "images_not_allowed"
    long = wa_desk.api.post(replies, json={"body": "x" * 1025, "attachment_ids": [first["id"]]})
    assert long.status_code == 422, long.text
    assert "1024 characters" in long.json()["error"]["reason"]
    template = wa_desk.api.post(
        replies,
        json={"body": "Here", "template": "ticket_update", "attachment_ids": [first["id"]]},
    )
    assert template.status_code == 422, template.text
    assert template.json()["error"]["code"] == "images_not_allowed"
    assert wa_desk.sent() == []


def test_whatsapp_image_outside_the_window_is_refused_as_text_is(wa_desk: Desk) -> None:
    wa_desk.wa.post("/_emulator/clock", json={"advance_seconds": -(DAY + 3600)})
    wa_desk.customer_writes("Is anyone there?")  # written 25 hours ago
    wa_desk.wa.post("/_emulator/clock", json={"advance_seconds": DAY + 3600})
    ticket = wa_desk.ticket()
    uploaded = upload(wa_desk.api, tiny_png())

    refused = wa_desk.api.post(
        f"/tickets/{ticket['id']}/replies",
        json={"body": "Sorry for the wait!", "attachment_ids": [uploaded["id"]]},
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "outside_window"
    assert wa_desk.sent() == []


def test_the_whatsapp_emulator_refuses_bad_media_the_cloud_api_way(wa_desk: Desk) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    bad = wa_desk.wa.post(
        f"/v21.0/{NUMBER_ID}/media",
        data={"messaging_product": "whatsapp", "type": "image/png"},
        files={"file": ("x.png", b"GIF89a not a png at all", "image/png")},
        headers=auth,
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == 131053
    unknown = wa_desk.wa.post(
        f"/v21.0/{NUMBER_ID}/messages",
        json={
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "image",
            "image": {"id": "404", "caption": "hi"},
        },
        headers=auth,
    )
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == 100
