"""X polling shapes (API v2): mentions and DM events turned into the same messages the
webhook path gives, and the poll cursor. The HTTP calls are in ``channels/x/connector.py``."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from socialdesk.channels.base import AccountRef, PayloadError
from socialdesk.channels.x.attachments import v2_attachments
from socialdesk.domain.enums import Direction, Platform, Visibility
from socialdesk.domain.messages import Author, InboundMessage
from socialdesk.domain.timestamps import iso_or_none

DM_EVENTS_BUCKET = "GET /2/dm_events"
DM_EVENT_FIELDS = {
    "event_types": "MessageCreate",
    "dm_event.fields": (
        "id,text,event_type,dm_conversation_id,created_at,sender_id,participant_ids,attachments"
    ),
    "expansions": "sender_id,attachments.media_keys",
    "media.fields": "type,url,preview_image_url,alt_text,variants",
    "user.fields": "username,name,public_metrics",
}
# DM polling allows 15 calls per 15 minutes: at most 3 pages per poll.
MAX_DM_POLL_PAGES = 3


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id_key(value: str) -> tuple[int, str]:
    """Sort key putting numeric ids in numeric order."""
    return (len(value), value)


def dm_conversation_id(user_a: str, user_b: str) -> str:
    """X's one-to-one conversation id: both user ids, lower first, joined by ``-``."""
    low, high = sorted((user_a, user_b), key=_id_key)
    return f"{low}-{high}"


def _created(value: object) -> datetime:
    """A v2 ``created_at``; now when it is missing, not a time, or out of range."""
    return iso_or_none(value) or datetime.now(UTC)


def parse_poll_cursor(cursor: str | None) -> tuple[str | None, str | None]:
    """(newest mention id, newest DM id) from a stored cursor: a bare id (mentions
    only, as stored before DMs were polled) or ``{"mentions": …, "dms": …}``."""
    if not cursor:
        return None, None
    if not cursor.startswith("{"):
        return cursor, None
    try:
        value = json.loads(cursor)
    except ValueError:
        return None, None
    value = _obj(value)
    mentions, dms = value.get("mentions"), value.get("dms")
    return (
        mentions if isinstance(mentions, str) and mentions else None,
        dms if isinstance(dms, str) and dms else None,
    )


def poll_cursor(mentions: str | None, dms: str | None) -> str:
    return json.dumps({"mentions": mentions, "dms": dms}, separators=(",", ":"))


def included_users(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    includes = _obj(body.get("includes"))
    return {
        u["id"]: u
        for u in includes.get("users", [])
        if isinstance(u, dict) and isinstance(u.get("id"), str)
    }


def parse_v2_tweet(
    tweet: object,
    account: AccountRef,
    users: Mapping[str, dict[str, Any]],
    media: Mapping[str, dict[str, Any]] | None = None,
) -> InboundMessage | None:
    if not isinstance(tweet, dict) or not isinstance(tweet.get("id"), str):
        raise PayloadError("mention without a string id")
    author_id = str(tweet.get("author_id") or "")
    if not author_id or author_id == account.external_id:
        return None
    user = users.get(author_id, {})
    metrics = _obj(user.get("public_metrics"))
    followers = metrics.get("followers_count")
    created = tweet.get("created_at")
    parent = next(
        (
            ref.get("id")
            for ref in tweet.get("referenced_tweets") or []
            if isinstance(ref, dict) and ref.get("type") == "replied_to"
        ),
        None,
    )
    return InboundMessage(
        channel_account_id=account.id,
        platform=Platform.X,
        platform_message_id=tweet["id"],
        author=Author(
            external_user_id=author_id,
            handle=user.get("username"),
            display_name=user.get("name"),
            follower_count=followers if isinstance(followers, int) else None,
        ),
        body=html.unescape(str(tweet.get("text", ""))),
        created_at=_created(created),
        direction=Direction.INBOUND,
        visibility=Visibility.PUBLIC,
        reply_to_id=parent,
        extra={"source": "poll", "x_conversation_id": tweet.get("conversation_id")},
        attachments=v2_attachments(tweet, media or {}),
    )


def parse_v2_dm(
    event: dict[str, Any],
    account: AccountRef,
    users: Mapping[str, dict[str, Any]],
    media: Mapping[str, dict[str, Any]] | None = None,
) -> InboundMessage | None:
    """The same message the webhook's ``direct_message_events`` gives for this DM
    (same id, conversation and author), so either path stores it once."""
    if event.get("event_type", "MessageCreate") != "MessageCreate":
        return None
    sender_id = str(event.get("sender_id") or "")
    if not sender_id:
        raise PayloadError("DM event without sender_id")
    if sender_id == account.external_id:
        return None  # our own DM, already stored when we sent it
    participants = [str(p) for p in event.get("participant_ids") or []]
    recipient = next((p for p in participants if p != sender_id), account.external_id)
    conversation = event.get("dm_conversation_id") or dm_conversation_id(sender_id, recipient)
    user = users.get(sender_id, {})
    followers = _obj(user.get("public_metrics")).get("followers_count")
    created = event.get("created_at")
    return InboundMessage(
        channel_account_id=account.id,
        platform=Platform.X,
        platform_message_id=event["id"],
        author=Author(
            external_user_id=sender_id,
            handle=user.get("username"),
            display_name=user.get("name"),
            follower_count=followers if isinstance(followers, int) else None,
        ),
        body=html.unescape(str(event.get("text", ""))),
        created_at=_created(created),
        visibility=Visibility.PRIVATE,
        conversation_id=str(conversation),
        extra={"source": "poll", "recipient_id": recipient},
        attachments=v2_attachments(event, media or {}),
    )
