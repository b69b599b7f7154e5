"""One bad event never costs its neighbours at parse time: per network shape, a
malformed event is refused on its own (with a body of just that event, so it can be
kept and retried) while its valid neighbours become messages; missing optional fields
fall back (the delivery's received time, the numeric id); out-of-range times are
refused, never an OverflowError."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from socialdesk.channels.base import AccountRef, ParsedEvent, PayloadError
from socialdesk.channels.bluesky.notifications import notification_message
from socialdesk.channels.mastodon.connector import MastodonConnector
from socialdesk.channels.meta.connector import MetaConnector
from socialdesk.channels.x.connector import XConnector
from socialdesk.domain.enums import Platform
from socialdesk.domain.timestamps import TimestampError, from_epoch, from_iso, iso_or_none

BRAND = "2244994945"
PAGE = "1029384756"
RECEIVED = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
X_ACCOUNT = AccountRef(id=1, platform=Platform.X, external_id=BRAND, handle="Acme")
PAGE_ACCOUNT = AccountRef(id=2, platform=Platform.FACEBOOK, external_id=PAGE, handle="Acme")
MESSENGER = AccountRef(id=3, platform=Platform.MESSENGER, external_id=PAGE, handle="Acme")


def resolve(platform: Platform, external_id: str) -> AccountRef | None:
    for account in (X_ACCOUNT, PAGE_ACCOUNT, MESSENGER):
        if account.platform == platform and account.external_id == external_id:
            return account
    return None


def parse_x(payload: dict[str, Any]) -> ParsedEvent:
    body = json.dumps({"for_user_id": BRAND, **payload}).encode()
    return XConnector("secret").parse_webhook(body, resolve, RECEIVED)


def parse_meta(*entries: dict[str, Any]) -> ParsedEvent:
    body = json.dumps({"object": "page", "entry": list(entries)}).encode()
    return MetaConnector("secret").parse_webhook(body, resolve, RECEIVED)


def good_tweet(n: int) -> dict[str, Any]:
    return {
        "id_str": str(n),
        "text": f"tweet {n}",
        "timestamp_ms": "1509487847000",
        "user": {"id_str": f"9{n}"},
    }


def dm(n: int, **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "message_create",
        "id": str(n),
        "created_timestamp": "1509487847000",
        "message_create": {
            "sender_id": f"9{n}",
            "target": {"recipient_id": BRAND},
            "message_data": {"text": f"dm {n}"},
        },
    }
    event.update(overrides)
    return event


# (case, X payload, texts that become messages, refused count, words in the reason)
X_CASES = [
    (
        "poison timestamp_ms beside a good tweet",
        {"tweet_create_events": [good_tweet(1), {**good_tweet(2), "timestamp_ms": "9" * 20}]},
        ["tweet 1"],
        1,
        "out of range",
    ),
    (
        "tweet without user.id_str uses user.id",
        {"tweet_create_events": [{**good_tweet(3), "user": {"id": 93}}]},
        ["tweet 3"],
        0,
        "",
    ),
    (
        "tweet without id_str uses id",
        {
            "tweet_create_events": [
                {**{k: v for k, v in good_tweet(4).items() if k != "id_str"}, "id": 4}
            ]
        },
        ["tweet 4"],
        0,
        "",
    ),
    (
        "tweet without any user beside a good one",
        {"tweet_create_events": [{"id_str": "5", "text": "who?"}, good_tweet(6)]},
        ["tweet 6"],
        1,
        "tweet user",
    ),
    (
        "DM without created_timestamp",
        {"direct_message_events": [{k: v for k, v in dm(7).items() if k != "created_timestamp"}]},
        ["dm 7"],
        0,
        "",
    ),
    (
        "DM without a target beside a good DM",
        {"direct_message_events": [dm(8, message_create={"sender_id": "98"}), dm(9)]},
        ["dm 9"],
        1,
        "message_create.target",
    ),
]


@pytest.mark.parametrize(
    ("payload", "texts", "refused", "reason"),
    [case[1:] for case in X_CASES],
    ids=[case[0] for case in X_CASES],
)
def test_x_events_one_by_one(
    payload: dict[str, Any], texts: list[str], refused: int, reason: str
) -> None:
    parsed = parse_x(payload)
    assert [m.body for m in parsed.messages] == texts
    assert len(parsed.rejected) == refused
    for rejected in parsed.rejected:
        assert reason in rejected.reason
        # The refused event's own body reads back as the same refusal, on its own.
        with pytest.raises(PayloadError, match=reason):
            XConnector("secret").parse_webhook(rejected.body.encode(), resolve, RECEIVED)


def test_x_missing_times_are_the_received_time() -> None:
    tweet = {k: v for k, v in good_tweet(1).items() if k != "timestamp_ms"}
    parsed = parse_x({"tweet_create_events": [tweet]})
    assert parsed.messages[0].created_at == RECEIVED
    dm_event = {k: v for k, v in dm(2).items() if k != "created_timestamp"}
    assert parse_x({"direct_message_events": [dm_event]}).messages[0].created_at == RECEIVED


def comment(n: int, **value: Any) -> dict[str, Any]:
    base = {
        "item": "comment",
        "verb": "add",
        "comment_id": f"{PAGE}_{n}",
        "post_id": f"{PAGE}_1",
        "message": f"comment {n}",
        "from": {"id": f"5{n}"},
    }
    return {"field": "feed", "value": {**base, **value}}


def message_event(n: int, **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "sender": {"id": f"7{n}"},
        "recipient": {"id": PAGE},
        "timestamp": 1509487847000,
        "message": {"mid": f"m.{n}", "text": f"message {n}"},
    }
    event.update(overrides)
    return event


META_CASES = [
    (
        "entry time 1e30 beside a good entry",
        [
            {"id": PAGE, "time": 1e30, "changes": [comment(1)]},
            {"id": PAGE, "time": 1509487847, "changes": [comment(2)]},
        ],
        ["comment 2"],
        1,
        "out of range",
    ),
    (
        "comment without any time",
        [{"id": PAGE, "changes": [comment(3)]}],
        ["comment 3"],
        0,
        "",
    ),
    (
        "opt-in without sender beside a message",
        [{"id": PAGE, "messaging": [{"optin": {"ref": "x"}}, message_event(4)]}],
        ["message 4"],
        0,
        "",
    ),
    (
        "message without sender beside a good one",
        [{"id": PAGE, "messaging": [message_event(5, sender=None), message_event(6)]}],
        ["message 6"],
        1,
        "sender",
    ),
    (
        "bad timestamp on one change of an entry",
        [{"id": PAGE, "changes": [comment(7, created_time="yesterday"), comment(8)]}],
        ["comment 8"],
        1,
        "bad timestamp",
    ),
    (
        "an entry without id beside a good entry",
        [{"time": 1509487847, "changes": [comment(9)]}, {"id": PAGE, "changes": [comment(10)]}],
        ["comment 10"],
        1,
        "entry.id",
    ),
]


@pytest.mark.parametrize(
    ("entries", "texts", "refused", "reason"),
    [case[1:] for case in META_CASES],
    ids=[case[0] for case in META_CASES],
)
def test_meta_events_one_by_one(
    entries: list[dict[str, Any]], texts: list[str], refused: int, reason: str
) -> None:
    parsed = parse_meta(*entries)
    assert [m.body for m in parsed.messages] == texts
    assert len(parsed.rejected) == refused
    for rejected in parsed.rejected:
        assert reason in rejected.reason
        with pytest.raises(PayloadError, match=reason):
            MetaConnector("secret").parse_webhook(rejected.body.encode(), resolve, RECEIVED)


def test_meta_comment_without_time_is_the_received_time() -> None:
    parsed = parse_meta({"id": PAGE, "changes": [comment(1)]})
    assert parsed.messages[0].created_at == RECEIVED


def test_bluesky_out_of_range_created_at_falls_back_to_indexed_at() -> None:
    account = AccountRef(id=4, platform=Platform.BLUESKY, external_id="did:plc:brand", handle="a")
    notification = {
        "uri": "at://did:plc:c/app.bsky.feed.post/1",
        "cid": "bafy",
        "reason": "mention",
        "author": {"did": "did:plc:c", "handle": "c.bsky.social"},
        "record": {
            "$type": "app.bsky.feed.post",
            "text": "hi",
            "createdAt": "0001-01-01T00:00:00-05:00",
        },
        "indexedAt": "2025-05-19T14:01:46.000Z",
    }
    message = notification_message(
        account, notification, own_dids=set(), brand_handles=set(), remember_post=lambda *a: None
    )
    assert message is not None
    assert message.created_at == datetime(2025, 5, 19, 14, 1, 46, tzinfo=UTC)


def test_mastodon_out_of_range_created_at_is_not_an_error() -> None:
    account = AccountRef(id=5, platform=Platform.MASTODON, external_id="1", handle="acme")
    notification = {
        "type": "mention",
        "status": {
            "id": "11",
            "created_at": "0001-01-01T00:00:00-05:00",
            "content": "<p>@acme help</p>",
            "account": {"id": "2", "acct": "c"},
            "visibility": "public",
        },
    }
    message = MastodonConnector("http://127.0.0.1:9").parse_notification(account, notification)
    assert message is not None
    assert abs((message.created_at - datetime.now(UTC)).total_seconds()) < 3600


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("1509487847000", 0.001, datetime(2017, 10, 31, 22, 10, 47, tzinfo=UTC)),
        (1509487847, 1.0, datetime(2017, 10, 31, 22, 10, 47, tzinfo=UTC)),
        (1509487847.5, 1.0, datetime(2017, 10, 31, 22, 10, 47, 500000, tzinfo=UTC)),
        ("99999999999999999999", 0.001, None),
        (10**400, 1.0, None),
        (1e30, 1.0, None),
        (float("nan"), 1.0, None),
        (float("inf"), 1.0, None),
        (-1, 1.0, None),
        (True, 1.0, None),
        ("12abc", 1.0, None),
        (None, 1.0, None),
        (4102444800, 1.0, None),  # 2100-01-01: the first moment refused
    ],
)
def test_from_epoch(value: object, unit: float, expected: datetime | None) -> None:
    if expected is None:
        with pytest.raises(TimestampError):
            from_epoch(value, unit=unit)
    else:
        assert from_epoch(value, unit=unit) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-05-19T14:01:46Z", datetime(2025, 5, 19, 14, 1, 46, tzinfo=UTC)),
        ("2025-05-19T16:01:46+02:00", datetime(2025, 5, 19, 14, 1, 46, tzinfo=UTC)),
        ("2025-05-19T14:01:46", datetime(2025, 5, 19, 14, 1, 46, tzinfo=UTC)),
        ("0001-01-01T00:00:00-05:00", None),
        ("9999-12-31T23:59:59+00:00", None),
        ("yesterday", None),
        (12, None),
    ],
)
def test_from_iso(value: object, expected: datetime | None) -> None:
    assert iso_or_none(value) == expected
    if expected is None:
        with pytest.raises(TimestampError):
            from_iso(value)
