"""Every X Account Activity event shape X documents, signed into the running app over
HTTP: tweets and DMs become messages, a deleted tweet removes the stored one, a revoke
(in X's documented shape, without ``for_user_id``) takes the account to
``needs_reauth``, and likes, follows, blocks, mutes, typing and read receipts are
ignored on purpose, recorded with their type. The table matches docs/channels.md."""

from __future__ import annotations

from typing import Any

import pytest

from socialdesk.domain.enums import AccountStatus, Platform, RawEventStatus
from socialdesk.store.models import ChannelAccount
from tests.channels.shapes_helpers import BRAND_X_ID, Desk, desk

__all__ = ["desk"]

CUSTOMER = {"id": 3001, "id_str": "3001", "screen_name": "cust", "name": "A Customer"}
BRAND = {"id": int(BRAND_X_ID), "id_str": BRAND_X_ID, "screen_name": "AcmeSupport"}


def tweet(tweet_id: str, text: str, user: dict[str, Any] = CUSTOMER, **more: Any) -> dict[str, Any]:
    return {
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": text,
        "timestamp_ms": "1764950400000",
        "user": user,
        **more,
    }


def dm(event_id: str, text: str, **more: Any) -> dict[str, Any]:
    return {
        "type": "message_create",
        "id": event_id,
        "created_timestamp": "1764950400000",
        "message_create": {
            "target": {"recipient_id": BRAND_X_ID},
            "sender_id": "3001",
            "message_data": {"text": text},
        },
        **more,
    }


def activity(**arrays: Any) -> dict[str, Any]:
    return {"for_user_id": BRAND_X_ID, **arrays}


# (case, payload, {platform message id: body} made, raw-event status, reason words)
CASES: list[tuple[str, dict[str, Any], dict[str, str], RawEventStatus, str]] = [
    (
        "mention tweet",
        activity(tweet_create_events=[tweet("501", "@AcmeSupport help")]),
        {"501": "@AcmeSupport help"},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "tweet with only the numeric ids (no id_str, no user.id_str)",
        activity(
            tweet_create_events=[
                {"id": 502, "text": "numeric ids", "user": {"id": 3002}, "timestamp_ms": "1"}
            ]
        ),
        {"502": "numeric ids"},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "quote tweet is a message",
        activity(
            tweet_create_events=[
                tweet("503", "this is wrong", is_quote_status=True, quoted_status=tweet("1", "x"))
            ]
        ),
        {"503": "this is wrong"},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "DM without created_timestamp",
        activity(
            direct_message_events=[
                {k: v for k, v in dm("601", "late dm").items() if k != "created_timestamp"}
            ],
            users={"3001": CUSTOMER},
        ),
        {"601": "late dm"},
        RawEventStatus.PROCESSED,
        "",
    ),
    (
        "retweet is ignored",
        activity(tweet_create_events=[tweet("504", "RT", retweeted_status=tweet("1", "orig"))]),
        {},
        RawEventStatus.IGNORED,
        "x.retweet",
    ),
    (
        "likes, follows, blocks, mutes are ignored and counted",
        activity(
            favorite_events=[{"id": "a"}, {"id": "b"}],
            follow_events=[{"type": "follow"}],
            block_events=[{"type": "block"}],
            mute_events=[{"type": "mute"}],
        ),
        {},
        RawEventStatus.IGNORED,
        "x.block, x.favorite (2), x.follow, x.mute",
    ),
    (
        "typing and read receipts are ignored",
        activity(
            direct_message_indicate_typing_events=[{"sender_id": "3001"}],
            direct_message_mark_read_events=[{"sender_id": "3001"}],
        ),
        {},
        RawEventStatus.IGNORED,
        "x.dm_read, x.dm_typing",
    ),
    (
        "deleting a tweet we never stored creates nothing",
        activity(
            tweet_delete_events=[
                {"status": {"id": "777", "user_id": "3001"}, "timestamp_ms": "1764950460000"}
            ]
        ),
        {},
        RawEventStatus.PROCESSED,
        "",
    ),
]


@pytest.mark.parametrize(
    ("payload", "made", "status", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_x_event_shapes(
    desk: Desk, payload: dict[str, Any], made: dict[str, str], status: RawEventStatus, reason: str
) -> None:
    raw = desk.raw(desk.post_x(payload))
    assert raw.status == str(status), raw.error
    assert (raw.error or "") == (f"ignored: {reason}" if reason else "")
    assert {m.platform_message_id: m.body for m in desk.messages()} == made
    assert desk.ticket_count() == len(made)


def _x_account(desk: Desk) -> ChannelAccount:
    with desk.db.session() as s:
        account = s.get(ChannelAccount, desk.accounts[Platform.X])
        assert account is not None
        s.expunge(account)
        return account


def test_revoke_in_the_documented_shape_needs_reauth(desk: Desk) -> None:
    payload = {
        "user_event": {
            "revoke": {
                "date_time": "2025-12-05T16:00:00+00:00",
                "target": {"app_id": "13090192"},
                "source": {"user_id": BRAND_X_ID},
            }
        }
    }
    raw = desk.raw(desk.post_x(payload))
    assert raw.status == str(RawEventStatus.PROCESSED), raw.error
    assert _x_account(desk).status == str(AccountStatus.NEEDS_REAUTH)


def test_revoke_by_someone_else_changes_nothing(desk: Desk) -> None:
    payload = {"user_event": {"revoke": {"source": {"user_id": "999"}, "target": {}}}}
    desk.post_x(payload)
    assert _x_account(desk).status == str(AccountStatus.ACTIVE)


def test_a_deleted_tweet_marks_the_stored_message_removed(desk: Desk) -> None:
    desk.post_x(activity(tweet_create_events=[tweet("800", "@AcmeSupport broken again")]))
    desk.post_x(
        activity(
            tweet_delete_events=[
                {"status": {"id": "800", "user_id": "3001"}, "timestamp_ms": "1764950460000"}
            ]
        )
    )
    message = desk.message("800")
    assert message is not None and message.body == "@AcmeSupport broken again"
    assert message.meta["removed_at"].startswith("2025-12-05T16:01:00")


def test_a_malformed_tweet_beside_a_valid_one(desk: Desk) -> None:
    raw_id = desk.post_x(
        activity(
            tweet_create_events=[
                {"id_str": "900", "text": "who wrote me?"},
                tweet("901", "@AcmeSupport hello"),
            ],
            favorite_events=[{"id": "f"}],
        )
    )
    assert [m.platform_message_id for m in desk.messages(raw_id)] == ["901"]
    (failed,) = desk.split_from(raw_id)
    assert failed.status == str(RawEventStatus.FAILED)
    assert failed.error and "tweet user" in failed.error
