"""Images on replies where Meta's Graph sends them in one call: a Facebook Page comment
reply carries one photo as multipart ``source`` beside its ``message``. The agent
uploads, replies with ``attachment_ids``, and the emulator holds the comment with its
photo; a worker that dies after Meta's answer is resumed without a second comment (the
read-back by text, as for text replies). Messenger and Instagram refuse images."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from socialdesk.store.db import Database
from tests.delivery.helpers import eventually
from tests.delivery.meta_desk import MetaDesk, open_meta_desk
from tests.delivery.reply_images import tiny_png, upload

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


@pytest.mark.parametrize(
    ("kind", "channel", "spec"),
    [
        ("messenger_dm", "messenger", {"customer": {"name": "Ana"}, "text": "Hi"}),
        ("ig_comment", "instagram", {"customer": {"username": "carol"}, "text": "Hi"}),
    ],
)
def test_messenger_and_instagram_refuse_images(
    desk: MetaDesk, kind: str, channel: str, spec: dict[str, object]
) -> None:
    desk.customer(kind, **spec)
    ticket = desk.only_ticket(channel)
    uploaded = upload(desk.api, tiny_png())
    refused = desk.api.post(
        f"/tickets/{ticket['id']}/replies",
        json={"body": "Look.", "attachment_ids": [uploaded["id"]]},
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "images_not_allowed"


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
