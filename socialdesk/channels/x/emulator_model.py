"""State and wire shapes of the X emulator: users, tweets, tokens, the v1.1 webhook
payloads and the v2 API objects. The HTTP app is in ``socialdesk.channels.x.emulator``."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import HTTPException

from socialdesk.channels.emulator_core import EmulatorCore

SNOWFLAKE_EPOCH_MS = 1288834974657
TWEET_KEYS = frozenset(
    {
        "text",
        "reply",
        "media",
        "quote_tweet_id",
        "poll",
        "reply_settings",
        "geo",
        "for_super_followers_only",
        "direct_message_deep_link",
        "nullcast",
        "card_uri",
        "community_id",
        "edit_options",
        "made_with_ai",
        "paid_partnership",
        "share_with_followers",
    }
)
REPLY_KEYS = frozenset(
    {"in_reply_to_tweet_id", "exclude_reply_user_ids", "auto_populate_reply_metadata"}
)
DM_KEYS = frozenset({"text", "attachments"})
DEFAULT_LIMITS = {
    "POST /2/tweets": 100,
    "DELETE /2/tweets/:id": 50,
    "PUT /2/tweets/:id/hidden": 50,
    "GET /2/users/:id/mentions": 300,
    "GET /2/users/:id/tweets": 900,
    "GET /2/tweets/search/recent": 300,
    "POST /2/dm_conversations": 15,
    # X: 15 requests per 15 minutes per user, which makes DM polling a coarse fallback.
    "GET /2/dm_events": 15,
}
DEFAULT_DAILY = {"POST /2/tweets": 10_000, "POST /2/dm_conversations": 1_440}
DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
URL_RE = re.compile(r"https?://\S+")
MENTION_RE = re.compile(r"(?<![\w@])@(\w{1,15})")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def v1_created_at(at: datetime) -> str:
    """``Mon May 19 14:01:46 +0000 2025``, independent of the process locale."""
    return (
        f"{_DAYS[at.weekday()]} {_MONTHS[at.month - 1]} {at.day:02d} {at:%H:%M:%S} +0000 {at.year}"
    )


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": kind, "status": status}


def hide_refusal(state: XState, user_id: str, tweet_id: str) -> tuple[int, dict[str, Any]] | None:
    """Why ``user_id`` may not hide ``tweet_id`` (status, problem body), or None.

    As X: only replies can be hidden, and only by the author of the tweet that started
    the conversation."""
    tweet = state.tweets.get(tweet_id)
    if tweet is None or tweet.deleted:
        detail = f"Could not find tweet with id: [{tweet_id}]."
        kind = "https://api.x.com/2/problems/resource-not-found"
        return 404, problem(404, "Not Found Error", detail, kind)
    root = state.tweets.get(tweet.conversation_id)
    forbidden = "https://api.x.com/2/problems/client-forbidden"
    if tweet.in_reply_to_tweet_id is None:
        detail = "Only replies can be hidden, not the Tweet that starts a conversation."
        return 403, problem(403, "Forbidden", detail, forbidden)
    if tweet.author_id == user_id:
        return 403, problem(403, "Forbidden", "You cannot hide your own reply.", forbidden)
    if root is None or root.author_id != user_id:
        detail = "You can only hide replies in conversations started by your own Tweet."
        return 403, problem(403, "Forbidden", detail, forbidden)
    return None


def invalid_request(message: str) -> dict[str, Any]:
    body = problem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        "https://api.twitter.com/2/problems/invalid-request",
    )
    body["errors"] = [{"message": message}]
    return body


@dataclass
class User:
    id: str
    username: str
    name: str
    followers_count: int = 0
    subscribed: bool = False


@dataclass
class Tweet:
    id: str
    text: str
    author_id: str
    created_at: datetime
    conversation_id: str
    in_reply_to_tweet_id: str | None = None
    in_reply_to_user_id: str | None = None
    mention_ids: list[str] = field(default_factory=list)
    deleted: bool = False
    hidden: bool = False  # a reply the conversation's author hid


@dataclass
class DirectMessage:
    """One ``MessageCreate`` DM event, as ``GET /2/dm_events`` lists it."""

    id: str
    conversation_id: str
    sender_id: str
    participant_ids: list[str]
    text: str
    created_at: datetime


@dataclass
class RefreshGrant:
    """What an OAuth 2.0 refresh token stands for. A confidential client
    (``client_secret`` set) must authenticate with HTTP Basic to use it."""

    user_id: str
    client_id: str
    scope: str
    client_secret: str | None = None


@dataclass
class XState:
    consumer_secret: str
    app_id: str
    core: EmulatorCore
    users: dict[str, User] = field(default_factory=dict)
    tweets: dict[str, Tweet] = field(default_factory=dict)
    dms: dict[str, DirectMessage] = field(default_factory=dict)
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    # refresh token → grant; a refresh token is deleted when used (X rotates them).
    refresh_grants: dict[str, RefreshGrant] = field(default_factory=dict)
    limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    daily_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DAILY))
    window_seconds: int = 900
    windows: dict[tuple[str, str, int], tuple[float, int]] = field(default_factory=dict)
    echo: str = "after"

    def new_id(self) -> str:
        ms = int(self.core.clock.time() * 1000) - SNOWFLAKE_EPOCH_MS
        return str((ms << 22) | (self.core.next_seq() & 0x3FFFFF))

    def user(self, spec: dict[str, Any], *, subscribed: bool = False) -> User:
        username = str(spec.get("username") or spec.get("screen_name") or "")
        for known in self.users.values():
            if (spec.get("id") and known.id == str(spec["id"])) or (
                username and known.username.lower() == username.lower()
            ):
                return known
        user_id = str(spec.get("id") or (10_000_000 + self.core.next_seq()))
        user = User(
            id=user_id,
            username=username or f"user{user_id}",
            name=str(spec.get("name") or username or user_id),
            followers_count=int(spec.get("followers_count", 0)),
            subscribed=subscribed,
        )
        self.users[user_id] = user
        return user

    def brand(self, brand_id: object) -> User:
        if brand_id:
            if str(brand_id) not in self.users:
                raise HTTPException(404, "unknown brand_user_id")
            return self.users[str(brand_id)]
        for user in self.users.values():
            if user.subscribed:
                return user
        raise HTTPException(400, "no brand account: POST /_emulator/users first")

    def by_username(self, username: str) -> User | None:
        return next(
            (u for u in self.users.values() if u.username.lower() == username.lower()), None
        )

    def add_tweet(
        self, author: User, text: str, parent: Tweet | None, *, shorten_urls: bool = True
    ) -> Tweet:
        tweet_id = self.new_id()
        if shorten_urls:
            text = URL_RE.sub(lambda m: "https://t.co/" + short_url(m.group(0)), text)
        mentions = [u.id for name in MENTION_RE.findall(text) if (u := self.by_username(name))]
        tweet = Tweet(
            id=tweet_id,
            text=text,
            author_id=author.id,
            created_at=self.core.clock.now(),
            conversation_id=parent.conversation_id if parent else tweet_id,
            in_reply_to_tweet_id=parent.id if parent else None,
            in_reply_to_user_id=parent.author_id if parent else None,
            mention_ids=mentions,
        )
        self.tweets[tweet_id] = tweet
        return tweet

    def import_tweet(self, tweet_id: str, author: User, text: str, parent_id: str | None) -> Tweet:
        """A tweet from before the emulator started, kept with its own id and text."""
        parent = self.tweets.get(parent_id or "")
        tweet = Tweet(
            id=tweet_id,
            text=text,
            author_id=author.id,
            created_at=self.core.clock.now(),
            conversation_id=parent.conversation_id if parent else (parent_id or tweet_id),
            in_reply_to_tweet_id=parent_id,
            in_reply_to_user_id=parent.author_id if parent else None,
        )
        self.tweets[tweet_id] = tweet
        return tweet

    def add_dm(self, event_id: str, sender: User, recipient: User, text: str) -> DirectMessage:
        low, high = sorted((sender.id, recipient.id), key=lambda i: (len(i), i))
        dm = DirectMessage(
            id=event_id,
            conversation_id=f"{low}-{high}",
            sender_id=sender.id,
            participant_ids=[low, high],
            text=text,
            created_at=self.core.clock.now(),
        )
        self.dms[event_id] = dm
        return dm

    # -- webhook payloads (v1.1 shapes) -------------------------------------------

    def v1_user(self, user: User) -> dict[str, Any]:
        return {
            "id": int(user.id),
            "id_str": user.id,
            "name": user.name,
            "screen_name": user.username,
            "followers_count": user.followers_count,
            "friends_count": 0,
            "verified": False,
            "protected": False,
        }

    def v1_tweet(self, tweet: Tweet) -> dict[str, Any]:
        author = self.users[tweet.author_id]
        entities = {
            "hashtags": [],
            "urls": [],
            "symbols": [],
            "user_mentions": [
                {
                    "screen_name": m.group(1),
                    "name": u.name,
                    "id": int(u.id),
                    "id_str": u.id,
                    "indices": [m.start(), m.end()],
                }
                for m in MENTION_RE.finditer(tweet.text)
                if (u := self.by_username(m.group(1)))
            ],
        }
        parent_user = self.users.get(tweet.in_reply_to_user_id or "")
        escaped = html.escape(tweet.text, quote=False)
        truncated = len(tweet.text) > 140
        body: dict[str, Any] = {
            "created_at": v1_created_at(tweet.created_at),
            "id": int(tweet.id),
            "id_str": tweet.id,
            "text": escaped[:139] + "…" if truncated else escaped,
            "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
            "truncated": truncated,
            "in_reply_to_status_id": int(tweet.in_reply_to_tweet_id or 0) or None,
            "in_reply_to_status_id_str": tweet.in_reply_to_tweet_id,
            "in_reply_to_user_id": int(parent_user.id) if parent_user else None,
            "in_reply_to_user_id_str": parent_user.id if parent_user else None,
            "in_reply_to_screen_name": parent_user.username if parent_user else None,
            "user": self.v1_user(author),
            "is_quote_status": False,
            "quote_count": 0,
            "reply_count": 0,
            "retweet_count": 0,
            "favorite_count": 0,
            "entities": entities,
            "favorited": False,
            "retweeted": False,
            "filter_level": "low",
            "lang": "en",
            "timestamp_ms": str(int(tweet.created_at.timestamp() * 1000)),
        }
        if truncated:
            body["extended_tweet"] = {
                "full_text": escaped,
                "display_text_range": [0, len(tweet.text)],
                "entities": entities,
            }
        return body

    def dm_payload(
        self, for_user: User, event_id: str, sender: User, recipient: User, text: str, echo: bool
    ) -> dict[str, Any]:
        create: dict[str, Any] = {
            "target": {"recipient_id": recipient.id},
            "sender_id": sender.id,
            "message_data": {
                "text": text,
                "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
            },
        }
        # The DM's own time: the webhook and dm_events must agree on it, to the millisecond.
        stored = self.dms.get(event_id)
        sent_at = stored.created_at if stored is not None else self.core.clock.now()
        payload: dict[str, Any] = {"for_user_id": for_user.id}
        if echo:
            create["source_app_id"] = self.app_id
            payload["apps"] = {self.app_id: {"id": self.app_id, "name": "socialdesk", "url": ""}}
        payload["direct_message_events"] = [
            {
                "type": "message_create",
                "id": event_id,
                "created_timestamp": str(int(sent_at.timestamp() * 1000)),
                "message_create": create,
            }
        ]
        payload["users"] = {u.id: self.v1_user(u) for u in (sender, recipient)}
        return payload

    # -- v2 shapes -----------------------------------------------------------------

    def v2_tweet(self, tweet: Tweet, fields: set[str]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": tweet.id,
            "text": html.escape(tweet.text, quote=False),
            "edit_history_tweet_ids": [tweet.id],
        }
        if "created_at" in fields:
            data["created_at"] = _v2_time(tweet.created_at)
        if "author_id" in fields:
            data["author_id"] = tweet.author_id
        if "conversation_id" in fields:
            data["conversation_id"] = tweet.conversation_id
        if "in_reply_to_user_id" in fields and tweet.in_reply_to_user_id:
            data["in_reply_to_user_id"] = tweet.in_reply_to_user_id
        if "referenced_tweets" in fields and tweet.in_reply_to_tweet_id:
            data["referenced_tweets"] = [{"type": "replied_to", "id": tweet.in_reply_to_tweet_id}]
        return data

    def v2_dm_event(self, dm: DirectMessage, fields: set[str]) -> dict[str, Any]:
        """A DM event: ``id``, ``event_type`` and ``text`` always, the rest on request
        through ``dm_event.fields``."""
        data: dict[str, Any] = {"id": dm.id, "event_type": "MessageCreate", "text": dm.text}
        if "dm_conversation_id" in fields:
            data["dm_conversation_id"] = dm.conversation_id
        if "created_at" in fields:
            data["created_at"] = _v2_time(dm.created_at)
        if "sender_id" in fields:
            data["sender_id"] = dm.sender_id
        if "participant_ids" in fields:
            data["participant_ids"] = list(dm.participant_ids)
        return data

    def v2_user(self, user: User, fields: set[str]) -> dict[str, Any]:
        data: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
        if "public_metrics" in fields:
            data["public_metrics"] = {"followers_count": user.followers_count}
        return data


def _v2_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def short_url(url: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(url.encode()).digest()[:7]).decode()[:10]


def csv_set(value: str | None) -> set[str]:
    return {v.strip() for v in (value or "").split(",") if v.strip()}
