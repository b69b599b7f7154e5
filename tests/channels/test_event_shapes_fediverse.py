"""Mastodon and Bluesky notification kinds: which become messages and which the desk
leaves alone (the polls ask only for the kinds that are messages; a kind read anyway
is ``None``, never an error). The table matches docs/channels.md; polling over HTTP is
in test_mastodon.py and test_bluesky.py."""

from __future__ import annotations

from typing import Any

import pytest

from socialdesk.channels.base import AccountRef
from socialdesk.channels.bluesky.notifications import (
    IGNORED_REASONS,
    POLL_REASONS,
    notification_message,
)
from socialdesk.channels.mastodon.connector import IGNORED_TYPES, MESSAGE_TYPES, MastodonConnector
from socialdesk.domain.enums import Platform, Visibility

MASTODON = AccountRef(id=5, platform=Platform.MASTODON, external_id="109", handle="acme")
BLUESKY = AccountRef(
    id=6, platform=Platform.BLUESKY, external_id="did:plc:acme", handle="acme.bsky.social"
)
CUSTOMER = {"id": "201", "username": "alice", "acct": "alice@example.social"}


def status(**more: Any) -> dict[str, Any]:
    return {
        "id": "1100",
        "created_at": "2025-12-05T16:00:00.000Z",
        "content": "<p>@acme my parcel is late</p>",
        "visibility": "public",
        "account": CUSTOMER,
        "mentions": [{"id": "109", "username": "acme", "acct": "acme"}],
        **more,
    }


# (kind, status overrides, body of the message or None, visibility)
MASTODON_CASES: list[tuple[str, dict[str, Any] | None, str | None, Visibility | None]] = [
    ("mention", {}, "my parcel is late", Visibility.PUBLIC),
    ("mention", {"in_reply_to_id": "1000"}, "my parcel is late", Visibility.PUBLIC),
    ("mention", {"visibility": "direct"}, "my parcel is late", Visibility.PRIVATE),
    ("quote", {"content": "<p>look at this @acme</p>"}, "look at this @acme", Visibility.PUBLIC),
    ("favourite", {}, None, None),
    ("reblog", {}, None, None),
    ("follow", None, None, None),
    ("follow_request", None, None, None),
    ("poll", {}, None, None),
    ("update", {}, None, None),
    ("status", {}, None, None),
]


@pytest.mark.parametrize(("kind", "overrides", "body", "visibility"), MASTODON_CASES)
def test_mastodon_notification_kinds(
    kind: str, overrides: dict[str, Any] | None, body: str | None, visibility: Visibility | None
) -> None:
    notification: dict[str, Any] = {"id": "77", "type": kind, "account": CUSTOMER}
    if overrides is not None:
        notification["status"] = status(**overrides)
    message = MastodonConnector("http://127.0.0.1:9").parse_notification(MASTODON, notification)
    assert (message.body if message else None) == body
    assert (message.visibility if message else None) == visibility
    assert (kind in MESSAGE_TYPES) == (body is not None)
    assert body is not None or kind in IGNORED_TYPES


def post_notification(reason: str, **record: Any) -> dict[str, Any]:
    return {
        "uri": "at://did:plc:cust/app.bsky.feed.post/3k1",
        "cid": "bafyq1",
        "reason": reason,
        "author": {"did": "did:plc:cust", "handle": "cust.bsky.social"},
        "indexedAt": "2025-12-05T16:00:01Z",
        "record": {
            "$type": "app.bsky.feed.post",
            "text": "@acme.bsky.social where is my refund?",
            "createdAt": "2025-12-05T16:00:00Z",
            **record,
        },
    }


def like_notification(reason: str) -> dict[str, Any]:
    return {
        "uri": "at://did:plc:cust/app.bsky.feed.like/3k2",
        "cid": "bafyl1",
        "reason": reason,
        "reasonSubject": "at://did:plc:acme/app.bsky.feed.post/3a",
        "author": {"did": "did:plc:cust", "handle": "cust.bsky.social"},
        "indexedAt": "2025-12-05T16:00:01Z",
        "record": {"$type": f"app.bsky.feed.{reason}", "createdAt": "2025-12-05T16:00:00Z"},
    }


PARENT = {"uri": "at://did:plc:acme/app.bsky.feed.post/3a", "cid": "bafyp"}
QUOTE = {"$type": "app.bsky.embed.record", "record": PARENT}
# (case, notification, body of the message or None, reply-to uri)
BLUESKY_CASES: list[tuple[str, dict[str, Any], str | None, str | None]] = [
    ("mention", post_notification("mention"), "where is my refund?", None),
    (
        "reply",
        post_notification("reply", reply={"root": PARENT, "parent": PARENT}),
        "where is my refund?",
        PARENT["uri"],
    ),
    ("quote", post_notification("quote", embed=QUOTE), "where is my refund?", None),
    ("like", like_notification("like"), None, None),
    ("repost", like_notification("repost"), None, None),
    (
        "follow",
        {
            "uri": "at://did:plc:cust/app.bsky.graph.follow/3k3",
            "cid": "bafyf",
            "reason": "follow",
            "author": {"did": "did:plc:cust"},
            "record": {"$type": "app.bsky.graph.follow", "subject": "did:plc:acme"},
        },
        None,
        None,
    ),
    (
        "starterpack-joined",
        {**like_notification("like"), "reason": "starterpack-joined"},
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("notification", "body", "reply_to"),
    [case[1:] for case in BLUESKY_CASES],
    ids=[case[0] for case in BLUESKY_CASES],
)
def test_bluesky_notification_reasons(
    notification: dict[str, Any], body: str | None, reply_to: str | None
) -> None:
    message = notification_message(
        BLUESKY,
        notification,
        own_dids={"did:plc:acme"},
        brand_handles={"acme.bsky.social"},
        remember_post=lambda *_: None,
    )
    assert (message.body if message else None) == body
    assert (message.reply_to_id if message else None) == reply_to
    reason = notification["reason"]
    assert (reason in POLL_REASONS) == (body is not None)
    assert body is not None or reason in IGNORED_REASONS
