"""Images on Messenger and Instagram DMs: the Send API carries text or one attachment
per message, so a reply with text and an image goes out as two messages, the text then
the image (multipart ``filedata``). Each part is recorded as it goes out: a worker that
dies or fails after the text sends only the image on its retry, and the emulator's
request counts show nothing was posted twice. Types and sizes are refused when the
reply is written; Instagram comment replies still take no image."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialdesk.channels.base import SendResult
from socialdesk.store.db import Database
from tests.delivery.helpers import eventually
from tests.delivery.meta_desk import MetaDesk, open_meta_desk
from tests.delivery.reply_images import tiny_png, upload

MESSAGES = "POST /{id}/messages"
CHANNELS = {
    "messenger": ("messenger_dm", {"customer": {"name": "Ana"}, "text": "Which filter?"}),
    "instagram": ("ig_dm", {"customer": {"username": "carol"}, "text": "Which filter?"}),
}


@pytest.fixture
def desk(db: Database, tmp_path: Path) -> Iterator[MetaDesk]:
    with open_meta_desk(db, attachment_folder=tmp_path) as opened:
        yield opened


def _dm_ticket(desk: MetaDesk, channel: str) -> int:
    kind, spec = CHANNELS[channel]
    desk.customer(kind, **spec)
    return int(desk.only_ticket(channel)["id"])


def _posts(desk: MetaDesk, channel: str) -> int:
    """Every POST the emulator received on the account's messages edge, refused or not."""
    owner = desk.page_id if channel == "messenger" else desk.ig_id
    counts: dict[str, int] = desk.meta.get("/_emulator/requests").json()
    return counts.get(f"POST /v21.0/{owner}/messages", 0)


def _reply(desk: MetaDesk, ticket_id: int, body: str, *images: bytes) -> httpx.Response:
    ids = [upload(desk.api, image, f"photo{n}.png")["id"] for n, image in enumerate(images)]
    return desk.api.post(
        f"/tickets/{ticket_id}/replies", json={"body": body, "attachment_ids": ids}
    )


@pytest.mark.parametrize("channel", ["messenger", "instagram"])
def test_text_and_image_go_out_as_two_messages(desk: MetaDesk, channel: str) -> None:
    ticket_id = _dm_ticket(desk, channel)
    image = tiny_png()

    created = _reply(desk, ticket_id, "This one, see the photo.", image)
    assert created.status_code == 201, created.text
    answer = desk.settled(ticket_id)

    assert answer["delivery_state"] == "sent", answer["delivery_error"]
    text, photo = desk.sent(MESSAGES)
    assert _posts(desk, channel) == 2
    assert text["body"]["message"] == {"text": "This one, see the photo."}
    assert text["body"]["messaging_type"] == "RESPONSE"
    assert photo["body"]["message"] == {
        "attachment": {"type": "image", "payload": {"is_reusable": False}}
    }
    assert photo["body"]["recipient"] == text["body"]["recipient"]
    held = photo["body"]["image"]
    assert (held["mime_type"], held["size"]) == ("image/png", len(image))
    assert held["sha256"] == hashlib.sha256(image).hexdigest()
    # The customer's copy is reachable at the URL Meta gives for it.
    fetched = httpx.get(held["url"], timeout=30)
    assert (fetched.status_code, fetched.content) == (200, image)
    # The reply is the text's message; both parts are recorded on it.
    assert answer["platform_message_id"] == text["id"]
    # The inbox shows the image on the outbound message.
    assert [a["name"] for a in answer["attachments"]] == ["photo0.png"]
    assert len([m for m in desk.detail(ticket_id)["messages"] if m["direction"] == "outbound"]) == 1


@pytest.mark.parametrize("channel", ["messenger", "instagram"])
def test_a_failure_after_the_text_retries_only_the_image(desk: MetaDesk, channel: str) -> None:
    ticket_id = _dm_ticket(desk, channel)
    # No echo: the fault queued below must meet the image's call, not another one.
    desk.configure(echo="off")
    sent_first: list[str] = []

    def fail_after_text(result: SendResult) -> None:
        # The text went out; Meta then fails the image with a transient error.
        if not sent_first:
            sent_first.append(result.platform_message_id)
            desk.meta.post("/_emulator/faults", json={"status": 500, "code": 2})

    desk.crash.on_send = fail_after_text
    created = _reply(desk, ticket_id, "Here it is.", tiny_png())
    assert created.status_code == 201, created.text
    eventually(lambda: "will retry" in (desk.last_answer(ticket_id)["delivery_error"] or ""))
    assert _posts(desk, channel) == 2  # the text, and the image Meta refused

    # The app's worker retries after its backoff.
    answer = desk.settled(ticket_id, "sent")
    text, photo = desk.sent(MESSAGES)
    assert "text" in text["body"]["message"] and "attachment" in photo["body"]["message"]
    assert _posts(desk, channel) == 3  # only the image again
    assert answer["platform_message_id"] == text["id"] == sent_first[0]


@pytest.mark.parametrize("channel", ["messenger", "instagram"])
def test_a_worker_that_dies_after_the_text_sends_only_the_image(
    desk: MetaDesk, channel: str
) -> None:
    ticket_id = _dm_ticket(desk, channel)
    desk.crash.armed = True  # dies after Meta accepts the text, before our commit

    created = _reply(desk, ticket_id, "The grey one.", tiny_png())
    assert created.status_code == 201, created.text
    eventually(lambda: desk.crash.crashes == 1 and len(desk.sent(MESSAGES)) == 1)
    # The text's echo does not settle a reply that has an image still to send.
    assert desk.last_answer(ticket_id)["delivery_state"] == "sending"
    desk.crash.armed = False

    assert desk.restarted_worker_pass() == 1

    answer = desk.settled(ticket_id)
    assert answer["delivery_state"] == "sent", answer["delivery_error"]
    text, photo = desk.sent(MESSAGES)  # the text read back from Meta, not sent again
    assert text["body"]["message"] == {"text": "The grey one."}
    assert "attachment" in photo["body"]["message"]
    assert _posts(desk, channel) == 2
    assert answer["platform_message_id"] == text["id"]


@pytest.mark.parametrize(
    ("channel", "image", "mime", "reason"),
    [
        ("messenger", b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(20), "image/webp", "image/webp"),
        ("instagram", b"GIF89a" + bytes(30), "image/gif", "image/gif"),
        ("instagram", tiny_png() + bytes(8_000_001), "image/png", "up to 8000000 bytes"),
    ],
)
def test_a_type_or_size_meta_refuses_is_refused_when_written(
    desk: MetaDesk, channel: str, image: bytes, mime: str, reason: str
) -> None:
    ticket_id = _dm_ticket(desk, channel)
    uploaded = upload(desk.api, image, "photo", mime)
    refused = desk.api.post(
        f"/tickets/{ticket_id}/replies", json={"body": "Look.", "attachment_ids": [uploaded["id"]]}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "images_not_allowed"
    assert reason in refused.json()["error"]["reason"]
    assert _posts(desk, channel) == 0


def test_more_images_than_a_dm_takes_are_refused(desk: MetaDesk) -> None:
    ticket_id = _dm_ticket(desk, "messenger")
    refused = _reply(desk, ticket_id, "All of them.", *(tiny_png(n) for n in range(5)))
    assert refused.status_code == 422, refused.text
    assert "at most 4 image(s)" in refused.json()["error"]["reason"]


def test_instagram_comment_replies_still_take_no_image(desk: MetaDesk) -> None:
    desk.customer("ig_comment", customer={"username": "carol"}, text="Photo?")
    ticket_id = int(desk.only_ticket("instagram")["id"])
    refused = _reply(desk, ticket_id, "Look.", tiny_png())
    assert refused.status_code == 422, refused.text
    reason = refused.json()["error"]["reason"]
    assert reason.startswith("Instagram does not allow images on a public reply")
    assert "comment replies are text only" in reason


def test_the_emulator_refuses_bad_dm_attachments_the_send_api_way(desk: MetaDesk) -> None:
    igsid = "17841400000000042"
    desk.customer("ig_dm", customer={"id": igsid, "username": "dora"}, text="Hi")
    token = desk.meta.post("/_emulator/tokens", json={"account_id": desk.ig_id}).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}

    def send(message: dict[str, Any], data: bytes | None) -> httpx.Response:
        form = {
            "recipient": json.dumps({"id": igsid}),
            "messaging_type": "RESPONSE",
            "message": json.dumps(message),
        }
        files = {"filedata": ("x.gif", data, "image/gif")} if data is not None else None
        return desk.meta.post(f"/v21.0/{desk.ig_id}/messages", data=form, files=files, headers=auth)

    image = {"attachment": {"type": "image", "payload": {"is_reusable": False}}}
    gif = send(image, b"GIF89a" + bytes(30))  # Instagram DMs take PNG and JPEG only
    assert gif.status_code == 400
    assert (gif.json()["error"]["code"], gif.json()["error"]["error_subcode"]) == (100, 2018047)
    both = send({"text": "hi"} | image, tiny_png())
    assert both.status_code == 400 and both.json()["error"]["code"] == 100
    missing = send(image, None)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == 100
    assert desk.sent(MESSAGES) == []


def test_a_private_reply_to_a_comment_cannot_carry_images(desk: MetaDesk) -> None:
    # No DM from this customer yet: a private answer is Meta's one private reply to the
    # comment, which an image message could not follow; nothing is sent.
    desk.customer("ig_comment", customer={"username": "erin"}, text="Price?")
    ticket_id = int(desk.only_ticket("instagram")["id"])
    uploaded = upload(desk.api, tiny_png())
    created = desk.api.post(
        f"/tickets/{ticket_id}/replies",
        json={"body": "Sent you the price list.", "visibility": "private",
              "attachment_ids": [uploaded["id"]]},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    answer = desk.settled(ticket_id)
    assert answer["delivery_state"] == "failed"
    assert "one private reply to a comment" in answer["delivery_error"]
    assert _posts(desk, "instagram") == 0
