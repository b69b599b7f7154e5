"""Bluesky mentions and replies: a ``listNotifications`` item of a post turned into an
``InboundMessage`` (wire format: ../shared/specs/social-platform-apis.md §4). Walking the
notification pages and the poll cursor are the connector's (``BlueskyConnector.poll``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from socialdesk.channels.base import AccountRef
from socialdesk.channels.bluesky.attachments import embed_attachments
from socialdesk.domain.enums import Direction, Platform, Visibility
from socialdesk.domain.messages import Author, InboundMessage
from socialdesk.domain.timestamps import iso_or_none

POST_COLLECTION = "app.bsky.feed.post"
# Notification reasons that are a post to answer; the poll asks for these only. Likes,
# reposts, follows, starter-pack joins and verifications are left alone
# (docs/channels.md).
POLL_REASONS = ("mention", "reply", "quote")
IGNORED_REASONS = (
    "like",
    "repost",
    "follow",
    "starterpack-joined",
    "verified",
    "unverified",
    "like-via-repost",
    "repost-via-repost",
    "subscribed-post",
)
_LEADING_HANDLE_RE = re.compile(r"@([\w.-]*\w)[,:]?(?=\s|$)")

# Told (post uri, cid, reply root strong ref or None) of every post parsed, so a reply
# to it can be threaded without fetching it again.
RememberPost = Callable[[str, str, dict[str, str] | None], None]


def parse_time(value: object) -> datetime | None:
    """An AT Protocol datetime string → aware UTC datetime (UTC when it has no offset);
    ``None`` when it is missing, not a time, or out of range (``domain.timestamps``)."""
    return iso_or_none(value)


def strip_leading_handles(text: str, handles: set[str]) -> str:
    """Drop the brand's ``@handle`` from the run of mentions opening a post."""
    wanted = {h.lower().lstrip("@") for h in handles if h}
    pos, kept = 0, []
    while True:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        match = _LEADING_HANDLE_RE.match(text, pos)
        if match is None:
            break
        if match.group(1).lower() not in wanted:
            kept.append(match.group(0))
        pos = match.end()
    rest = text[pos:].lstrip()
    result = " ".join([*kept, rest]) if rest else " ".join(kept)
    return result.strip() or text.strip()


def notification_message(
    account: AccountRef,
    notification: Mapping[str, Any],
    *,
    own_dids: set[str],
    brand_handles: set[str],
    remember_post: RememberPost,
) -> InboundMessage | None:
    """A ``mention``/``reply``/``quote`` notification of a post → ``InboundMessage``;
    ``None`` for anything else (``IGNORED_REASONS``). A post by one of ``own_dids`` is
    outbound (the brand's own reply); ``brand_handles`` are dropped from the mentions
    opening the text."""
    record = notification.get("record")
    uri, cid = notification.get("uri"), notification.get("cid")
    if (
        notification.get("reason") not in POLL_REASONS
        or not isinstance(record, dict)
        or record.get("$type") != POST_COLLECTION
        or not isinstance(uri, str)
        or not isinstance(cid, str)
    ):
        return None
    author_json = notification.get("author")
    author_json = author_json if isinstance(author_json, dict) else {}
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else None
    parent = reply.get("parent") if reply else None
    root = reply.get("root") if reply else None
    parent_uri = parent.get("uri") if isinstance(parent, dict) else None
    root_ref = root if isinstance(root, dict) and root.get("uri") and root.get("cid") else None
    remember_post(uri, cid, root_ref)
    did = str(author_json.get("did") or "")
    text = str(record.get("text") or "")
    created = parse_time(record.get("createdAt")) or parse_time(notification.get("indexedAt"))
    extra: dict[str, object] = {
        "cid": cid,
        "reason": notification.get("reason"),
        "indexed_at": notification.get("indexedAt"),
        "text": text,
    }
    if root_ref:
        extra["root_cid"] = root_ref["cid"]
    if isinstance(parent, dict) and parent.get("cid"):
        extra["parent_cid"] = parent["cid"]
    return InboundMessage(
        channel_account_id=account.id,
        platform=Platform.BLUESKY,
        platform_message_id=uri,
        author=Author(
            external_user_id=did,
            handle=str(author_json.get("handle") or "") or None,
            display_name=str(author_json.get("displayName") or "") or None,
        ),
        body=strip_leading_handles(text, brand_handles),
        created_at=created or datetime.now(UTC),
        direction=Direction.OUTBOUND if did in own_dids else Direction.INBOUND,
        visibility=Visibility.PUBLIC,
        reply_to_id=parent_uri if isinstance(parent_uri, str) else None,
        references=(str(root_ref["uri"]),) if root_ref else (),
        extra=extra,
        attachments=embed_attachments(record.get("embed"), did),
    )
