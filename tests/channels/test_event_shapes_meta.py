"""Every Messenger, Instagram and Page-feed event shape Meta documents, signed into the
running app over HTTP: which become messages (and tickets), which change a stored
message, and which are ignored on purpose, recorded with their type (never an error).
The table matches docs/channels.md."""

from __future__ import annotations

import time
from typing import Any

import pytest
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.config import reset_settings_cache
from socialdesk.domain.enums import RawEventStatus
from tests.channels.shapes_helpers import IG_ID, PAGE_ID, Desk, T, desk

__all__ = ["desk"]

CUSTOMER = "6543210987654321"


def messaging(**event: Any) -> dict[str, Any]:
    return {
        "sender": {"id": CUSTOMER},
        "recipient": {"id": PAGE_ID},
        "timestamp": T * 1000,
        **event,
    }


def ig_messaging(**event: Any) -> dict[str, Any]:
    return {**messaging(**event), "recipient": {"id": IG_ID}}


def feed(**value: Any) -> dict[str, Any]:
    return {"field": "feed", "value": value}


PAGE_MESSAGE = messaging(message={"mid": "m_text", "text": "Where is my order?"})

# (case, object, entry, {platform message id: body} made, raw-event status, reason words)
CASES: list[tuple[str, str, dict[str, Any], dict[str, str], RawEventStatus, str]] = [
    (
        "messenger text message",
        "page",
        {"id": PAGE_ID, "time": T, "messaging": [PAGE_MESSAGE]},
        {"m_text": "Where is my order?"},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "messenger message from a click-to-Messenger ad (message.referral)",
        "page",
        {
            "id": PAGE_ID,
            "messaging": [
                messaging(
                    message={
                        "mid": "m_ad",
                        "text": "Is this in stock?",
                        "referral": {"source": "ADS", "type": "OPEN_THREAD", "ad_id": "6045"},
                    }
                )
            ],
        },
        {"m_ad": "Is this in stock?"},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "messenger postback with mid",
        "page",
        {
            "id": PAGE_ID,
            "messaging": [
                messaging(postback={"mid": "m_pb", "title": "Track my order", "payload": "TRACK"})
            ],
        },
        {"m_pb": "Track my order"},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "messenger Get Started postback without mid",
        "page",
        {
            "id": PAGE_ID,
            "messaging": [messaging(postback={"title": "Get Started", "payload": "GET_STARTED"})],
        },
        {f"postback.{CUSTOMER}.{T * 1000}": "Get Started"},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "messenger standby message (another app holds the thread)",
        "page",
        {
            "id": PAGE_ID,
            "standby": [messaging(message={"mid": "m_standby", "text": "Hello? Anyone?"})],
        },
        {"m_standby": "Hello? Anyone?"},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "messenger referral (m.me link) is ignored",
        "page",
        {
            "id": PAGE_ID,
            "messaging": [
                messaging(referral={"ref": "spring", "source": "SHORTLINK", "type": "OPEN_THREAD"})
            ],
        },
        {},
        RawEventStatus.IGNORED,
        "messenger.referral",
    ),
    (
        "messenger opt-in, and one without sender (user_ref only)",
        "page",
        {
            "id": PAGE_ID,
            "messaging": [
                messaging(optin={"ref": "newsletter"}),
                {"recipient": {"id": PAGE_ID}, "timestamp": T, "optin": {"user_ref": "u1"}},
            ],
        },
        {},
        RawEventStatus.IGNORED,
        "messenger.optin (2)",
    ),
    (
        "messenger reaction is ignored",
        "page",
        {
            "id": PAGE_ID,
            "messaging": [
                messaging(reaction={"mid": "m_1", "action": "react", "reaction": "love"})
            ],
        },
        {},
        RawEventStatus.IGNORED,
        "messenger.reaction",
    ),
    (
        "messenger read and delivery reports are ignored and counted",
        "page",
        {
            "id": PAGE_ID,
            "messaging": [
                messaging(read={"watermark": T * 1000}),
                messaging(delivery={"mids": ["m_1"], "watermark": T * 1000}),
                messaging(delivery={"mids": ["m_2"], "watermark": T * 1000}),
            ],
        },
        {},
        RawEventStatus.IGNORED,
        "messenger.delivery (2), messenger.read",
    ),
    (
        "messenger handover (pass_thread_control) is ignored",
        "page",
        {
            "id": PAGE_ID,
            "messaging": [messaging(pass_thread_control={"new_owner_app_id": "123"})],
        },
        {},
        RawEventStatus.IGNORED,
        "messenger.pass_thread_control",
    ),
    (
        "page visitor post (item status) opens a ticket",
        "page",
        {
            "id": PAGE_ID,
            "time": T,
            "changes": [
                feed(
                    item="status",
                    verb="add",
                    post_id=f"{PAGE_ID}_901",
                    message="Your store on Main St was closed at noon",
                    created_time=T,
                    published=1,
                    **{"from": {"id": "4000111", "name": "Bea Visitor"}},
                )
            ],
        },
        {f"{PAGE_ID}_901": "Your store on Main St was closed at noon"},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "page comment without any time (entry or created_time)",
        "page",
        {
            "id": PAGE_ID,
            "changes": [
                feed(
                    item="comment",
                    verb="add",
                    comment_id=f"{PAGE_ID}_1_7",
                    post_id=f"{PAGE_ID}_1",
                    message="no time given",
                    **{"from": {"id": "4000114"}},
                )
            ],
        },
        {f"{PAGE_ID}_1_7": "no time given"},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "page visitor post with a link (item post)",
        "page",
        {
            "id": PAGE_ID,
            "time": T,
            "changes": [
                feed(
                    item="post",
                    verb="add",
                    post_id=f"{PAGE_ID}_902",
                    message="Look at this review",
                    link="https://example.com/review",
                    created_time=T,
                    **{"from": {"id": "4000112", "name": "Cy Visitor"}},
                )
            ],
        },
        {f"{PAGE_ID}_902": "Look at this review"},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "the page's own post is ignored",
        "page",
        {
            "id": PAGE_ID,
            "changes": [
                feed(
                    item="status",
                    verb="add",
                    post_id=f"{PAGE_ID}_903",
                    message="Spring sale!",
                    **{"from": {"id": PAGE_ID, "name": "Acme"}},
                )
            ],
        },
        {},
        RawEventStatus.IGNORED,
        "facebook.feed.own_post",
    ),
    (
        "a feed reaction is ignored",
        "page",
        {
            "id": PAGE_ID,
            "changes": [
                feed(
                    item="reaction",
                    verb="add",
                    post_id=f"{PAGE_ID}_1",
                    reaction_type="like",
                    **{"from": {"id": "4000113"}},
                )
            ],
        },
        {},
        RawEventStatus.IGNORED,
        "facebook.feed.reaction",
    ),
    (
        "a page mention field is ignored",
        "page",
        {
            "id": PAGE_ID,
            "changes": [{"field": "mention", "value": {"post_id": "1_2", "verb": "add"}}],
        },
        {},
        RawEventStatus.IGNORED,
        "facebook.mention",
    ),
    (
        "instagram DM",
        "instagram",
        {"id": IG_ID, "messaging": [ig_messaging(message={"mid": "ig_1", "text": "hi from IG"})]},
        {"ig_1": "hi from IG"},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "instagram standby DM is read like a message",
        "instagram",
        {"id": IG_ID, "standby": [ig_messaging(message={"mid": "ig_sb", "text": "still there?"})]},
        {"ig_sb": "still there?"},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "instagram unsend of a message never stored creates nothing",
        "instagram",
        {"id": IG_ID, "messaging": [ig_messaging(message={"mid": "ig_never", "is_deleted": True})]},
        {},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "instagram reaction and read (messaging_seen) are ignored",
        "instagram",
        {
            "id": IG_ID,
            "messaging": [
                ig_messaging(reaction={"mid": "ig_1", "action": "react", "emoji": "❤"}),
                ig_messaging(read={"mid": "ig_1"}),
            ],
        },
        {},
        RawEventStatus.IGNORED,
        "instagram.reaction, instagram.read",
    ),
    (
        "instagram mentions field is ignored",
        "instagram",
        {
            "id": IG_ID,
            "changes": [{"field": "mentions", "value": {"media_id": "1", "comment_id": "2"}}],
        },
        {},
        RawEventStatus.IGNORED,
        "instagram.mentions",
    ),
]


@pytest.mark.parametrize(
    ("kind", "entry", "made", "status", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_meta_event_shapes(
    desk: Desk,
    kind: str,
    entry: dict[str, Any],
    made: dict[str, str],
    status: RawEventStatus,
    reason: str,
) -> None:
    raw_id = desk.post_meta(kind, entry)
    raw = desk.raw(raw_id)
    assert raw.status == str(status), raw.error
    assert (raw.error or "") == (f"ignored: {reason}" if reason else "")
    messages = desk.messages()
    assert {m.platform_message_id: m.body for m in messages} == made
    assert desk.ticket_count() == len(made)


def test_instagram_unsend_of_a_stored_message_marks_it_removed(desk: Desk) -> None:
    desk.post_meta(
        "instagram",
        {"id": IG_ID, "messaging": [ig_messaging(message={"mid": "ig_5", "text": "oops"})]},
    )
    unsend = ig_messaging(message={"mid": "ig_5", "is_deleted": True})
    unsend["timestamp"] = (T + 60) * 1000
    desk.post_meta("instagram", {"id": IG_ID, "messaging": [unsend]})
    message = desk.message("ig_5")
    assert message is not None and message.body == "oops"  # the text stays for the record
    assert message.meta["removed_at"].startswith("2025-12-05T16:01:00")
    assert desk.ticket_count() == 1 and len(desk.messages()) == 1


def test_messenger_message_edit_changes_the_stored_text(desk: Desk) -> None:
    desk.post_meta("page", {"id": PAGE_ID, "messaging": [PAGE_MESSAGE]})
    edit = messaging(message_edit={"mid": "m_text", "text": "Where is order 42?", "num_edit": 1})
    edit["timestamp"] = (T + 30) * 1000
    desk.post_meta("page", {"id": PAGE_ID, "messaging": [edit]})
    message = desk.message("m_text")
    assert message is not None and message.body == "Where is order 42?"
    assert message.meta["edits"][-1]["body"] == "Where is my order?"


def test_a_comment_on_a_visitor_post_joins_its_ticket(desk: Desk) -> None:
    post = feed(
        item="status",
        verb="add",
        post_id=f"{PAGE_ID}_950",
        message="Wrong size delivered",
        created_time=T,
        **{"from": {"id": "4000200", "name": "Di"}},
    )
    comment = feed(
        item="comment",
        verb="add",
        comment_id=f"{PAGE_ID}_950_1",
        post_id=f"{PAGE_ID}_950",
        parent_id=f"{PAGE_ID}_950",
        message="Same here",
        created_time=T + 5,
        **{"from": {"id": "4000201", "name": "Ed"}},
    )
    desk.post_meta("page", {"id": PAGE_ID, "time": T, "changes": [post]})
    desk.post_meta("page", {"id": PAGE_ID, "time": T + 5, "changes": [comment]})
    first, second = desk.message(f"{PAGE_ID}_950"), desk.message(f"{PAGE_ID}_950_1")
    assert first is not None and second is not None
    assert first.ticket_id == second.ticket_id


def test_one_malformed_event_beside_a_valid_one(desk: Desk) -> None:
    """The valid message is made; the malformed one is kept as a failed raw event of
    its own with its reason, beside the ignored read."""
    raw_id = desk.post_meta(
        "page",
        {
            "id": PAGE_ID,
            "messaging": [
                messaging(message={"text": "no mid"}),
                PAGE_MESSAGE,
                messaging(read={"watermark": 1}),
            ],
        },
    )
    assert [m.platform_message_id for m in desk.messages(raw_id)] == ["m_text"]
    assert desk.raw(raw_id).status == str(RawEventStatus.PROCESSED)
    (failed,) = desk.split_from(raw_id)
    assert failed.status == str(RawEventStatus.FAILED)
    assert failed.error and "message.mid" in failed.error
    assert '"no mid"' in failed.body and "m_text" not in failed.body


def test_ignored_deliveries_are_listed_from_the_shell(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw_id = desk.post_meta(
        "page", {"id": PAGE_ID, "messaging": [messaging(read={"watermark": T * 1000})]}
    )
    monkeypatch.setenv("SOCIALDESK_DATABASE_URL", desk.db.url)
    monkeypatch.setenv("COLUMNS", "200")
    reset_settings_cache()
    try:
        listed = CliRunner().invoke(app, ["raw-events", "list", "--status", "ignored"])
    finally:
        reset_settings_cache()
    assert listed.exit_code == 0, listed.output
    assert "ignored raw events (1 of 1)" in listed.output
    assert str(raw_id) in listed.output and "ignored: messenger.read" in listed.output


def _ignored_count(desk: Desk, kind: str) -> float:
    response = desk.client.get("/metrics")
    assert response.status_code == 200, response.text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in response.text.splitlines()
        if line.startswith("socialdesk_webhook_events_ignored_total{") and f'type="{kind}"' in line
    )


def test_ignored_events_are_counted_on_metrics(desk: Desk) -> None:
    before = _ignored_count(desk, "messenger.delivery")
    desk.post_meta(
        "page",
        {
            "id": PAGE_ID,
            "messaging": [
                PAGE_MESSAGE,  # beside a message: processed, still counted
                messaging(delivery={"mids": ["m_1"], "watermark": 1}),
                messaging(delivery={"mids": ["m_2"], "watermark": 2}),
            ],
        },
    )
    # Counted just after the worker's commit, which the wait above has seen.
    deadline = time.monotonic() + 5
    while _ignored_count(desk, "messenger.delivery") < before + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ignored_count(desk, "messenger.delivery") == before + 2
