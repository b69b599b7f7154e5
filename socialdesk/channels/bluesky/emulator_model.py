"""State of the Bluesky emulator: profiles, posts, threadgates, notifications, session
tokens and rate-limit windows. The XRPC app is in ``socialdesk.channels.bluesky.emulator``."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import regex

from socialdesk.channels.bluesky.emulator_chat import ChatState

POST_COLLECTION = "app.bsky.feed.post"
THREADGATE_COLLECTION = "app.bsky.feed.threadgate"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def _iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _parse_datetime(value: object) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


_GRAPHEME = regex.compile(r"\X")


def grapheme_count(text: str) -> int:
    """Extended grapheme clusters, as Bluesky's Intl.Segmenter counts them (the `regex`
    module's \\X follows current Unicode)."""
    return len(_GRAPHEME.findall(text))


def _fake_cid(payload: object) -> str:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).digest()
    return "bafyrei" + base64.b32encode(digest).decode().lower().rstrip("=")[:52]


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    signature = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"{part({'typ': 'at+jwt', 'alg': 'HS256'})}.{part(claims)}.{signature}"


@dataclass
class _Profile:
    did: str
    handle: str
    display_name: str
    created_at: datetime


@dataclass
class _Post:
    uri: str
    cid: str
    author: _Profile
    record: dict[str, Any]
    indexed_at: datetime


@dataclass
class _Record:
    """A record of another collection than posts (a threadgate) as the repo holds it."""

    uri: str
    cid: str
    value: dict[str, Any]


@dataclass
class _Notification:
    recipient: str
    post: _Post
    reason: str
    reason_subject: str | None
    indexed_at: datetime
    seq: int


@dataclass
class _Token:
    did: str
    scope: str
    expires_at: datetime
    revoked: bool = False


@dataclass
class _Window:
    limit: int
    seconds: int
    start: int = 0
    used: int = 0

    def take(self, now: datetime) -> tuple[bool, dict[str, str]]:
        start = int(now.timestamp()) // self.seconds * self.seconds
        if start != self.start:
            self.start, self.used = start, 0
        allowed = self.used < self.limit
        if allowed:
            self.used += 1
        return allowed, {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.limit - self.used)),
            "RateLimit-Reset": str(start + self.seconds),
            "RateLimit-Policy": f"{self.limit};w={self.seconds}",
        }


@dataclass
class BlueskyEmulator:
    """The service's state. ``app.state.emulator`` holds it for in-process inspection."""

    brand_handle: str = "acme.bsky.social"
    brand_did: str = "did:plc:acmebrand5ocialdesk00"
    app_password: str = "abcd-efgh-ijkl-mnop"  # noqa: S105 - a fake app password
    access_ttl: timedelta = timedelta(minutes=120)
    refresh_ttl: timedelta = timedelta(days=90)
    clock_offset: timedelta = timedelta()
    profiles: dict[str, _Profile] = field(default_factory=dict)
    posts: dict[str, _Post] = field(default_factory=dict)
    # threadgate uri → record (rkey = the gated post's rkey, in the post author's repo)
    threadgates: dict[str, _Record] = field(default_factory=dict)
    notifications: list[_Notification] = field(default_factory=list)
    seen_at: dict[str, datetime] = field(default_factory=dict)
    tokens: dict[str, _Token] = field(default_factory=dict)
    stats: dict[str, Any] = field(
        default_factory=lambda: {
            "createSession": 0,
            "refreshSession": 0,
            "updateSeen": [],
            "recordExists": 0,
        }
    )
    # How createRecord answers an rkey that is taken: (status, error name).
    record_exists_error: tuple[int, str] = (400, "InvalidRequest")
    sent: list[dict[str, Any]] = field(default_factory=list)
    # Uploaded blobs by CID: who uploaded them, their size and type.
    blobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    session_window: _Window = field(default_factory=lambda: _Window(30, 300))
    api_window: _Window = field(default_factory=lambda: _Window(3000, 300))
    # The chat service limits on its own, apart from the PDS.
    chat_window: _Window = field(default_factory=lambda: _Window(3000, 300))
    chat: ChatState = field(default_factory=ChatState)
    # False: the app password was made without "Allow access to your direct messages".
    dm_access: bool = True
    brand: _Profile = field(init=False)
    _last_tid: int = 0
    _last_indexed: datetime = field(default_factory=lambda: datetime(2000, 1, 1, tzinfo=UTC))

    def __post_init__(self) -> None:
        self.brand = self.profile(self.brand_handle, "Acme Support", did=self.brand_did)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def index_time(self) -> datetime:
        """Strictly rising indexedAt values (millisecond precision, as serialised)."""
        now = self.now()
        moment = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if moment <= self._last_indexed:
            moment = self._last_indexed + timedelta(milliseconds=1)
        self._last_indexed = moment
        return moment

    def tid(self) -> str:
        value = max(int(self.now().timestamp() * 1_000_000), self._last_tid + 1)
        self._last_tid = value
        number = (value << 10) | 7
        return "".join(_TID_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(13)))

    def profile(
        self, handle: str, display_name: str | None = None, did: str | None = None
    ) -> _Profile:
        handle = handle.lstrip("@").lower()
        for existing in self.profiles.values():
            if existing.handle == handle:
                return existing
        if did is None:
            did = "did:plc:" + hashlib.sha256(handle.encode()).hexdigest()[:24]
        created = _Profile(did, handle, display_name or handle.split(".")[0].title(), self.now())
        self.profiles[did] = created
        return created

    def profile_json(self, profile: _Profile) -> dict[str, Any]:
        return {
            "did": profile.did,
            "handle": profile.handle,
            "displayName": profile.display_name,
            "avatar": f"https://cdn.bsky.example/avatar/{profile.did}.jpg",
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [],
            "createdAt": _iso(profile.created_at),
        }

    def issue_tokens(self, did: str) -> tuple[str, str]:
        now = self.now()
        pair = []
        for scope, ttl in (
            ("com.atproto.access", self.access_ttl),
            ("com.atproto.refresh", self.refresh_ttl),
        ):
            claims = {"scope": scope, "sub": did, "iat": int(now.timestamp())}
            claims |= {"exp": int((now + ttl).timestamp()), "jti": secrets.token_hex(8)}
            token = _jwt(claims)
            self.tokens[token] = _Token(did, scope, now + ttl)
            pair.append(token)
        return pair[0], pair[1]

    def check_token(self, header: str, scope: str) -> _Token | tuple[int, str, str]:
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token:
            return 401, "AuthMissing", "Authentication Required"
        found = self.tokens.get(token)
        if found is None or found.scope != scope:
            return 400, "InvalidToken", "Token could not be verified"
        if found.revoked:
            return 400, "ExpiredToken", "Token has been revoked"
        if found.expires_at <= self.now():
            return 400, "ExpiredToken", "Token has expired"
        return found

    def create_post(
        self, author: _Profile, record: dict[str, Any], rkey: str | None = None
    ) -> _Post:
        uri = f"at://{author.did}/{POST_COLLECTION}/{rkey or self.tid()}"
        post = _Post(uri, _fake_cid([uri, record]), author, record, self.index_time())
        self.posts[uri] = post
        parent_uri = (record.get("reply") or {}).get("parent", {}).get("uri")
        parent = self.posts.get(parent_uri or "")
        notified: set[str] = set()
        if parent is not None and parent.author is not author:
            self._notify(parent.author.did, post, "reply", parent.uri)
            notified.add(parent.author.did)
        for facet in record.get("facets") or []:
            for feature in facet.get("features") or []:
                did = feature.get("did")
                is_mention = str(feature.get("$type", "")).endswith("#mention")
                if is_mention and did in self.profiles and did not in notified | {author.did}:
                    self._notify(did, post, "mention", None)
                    notified.add(did)
        return post

    def _notify(self, recipient: str, post: _Post, reason: str, subject: str | None) -> None:
        seq = len(self.notifications)
        self.notifications.append(
            _Notification(recipient, post, reason, subject, post.indexed_at, seq)
        )

    def customer_record(self, text: str, parent: _Post | None = None) -> dict[str, Any]:
        """A customer's post record with mention facets for the handles it names."""
        facets = []
        raw = text.encode()
        for profile in self.profiles.values():
            needle = f"@{profile.handle}".encode()
            start = raw.lower().find(needle)
            if start >= 0:
                facets.append(
                    {
                        "index": {"byteStart": start, "byteEnd": start + len(needle)},
                        "features": [
                            {"$type": "app.bsky.richtext.facet#mention", "did": profile.did}
                        ],
                    }
                )
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": text,
            "createdAt": _iso(self.now()),
        }
        record["langs"] = ["en"]
        if facets:
            record["facets"] = facets
        if parent is not None:
            parent_ref = {"uri": parent.uri, "cid": parent.cid}
            root = (parent.record.get("reply") or {}).get("root") or parent_ref
            record["reply"] = {"root": root, "parent": parent_ref}
        return record

    def threadgate_of(self, post_uri: str) -> _Record | None:
        """The threadgate on the post ``post_uri`` (same repo, same rkey), if any."""
        repo, _, rest = post_uri.removeprefix("at://").partition("/")
        rkey = rest.rpartition("/")[2]
        return self.threadgates.get(f"at://{repo}/{THREADGATE_COLLECTION}/{rkey}")

    def hidden_replies(self, post_uri: str) -> list[str]:
        """The reply uris the root post ``post_uri``'s author hid in its thread."""
        gate = self.threadgate_of(post_uri)
        return list(gate.value.get("hiddenReplies") or []) if gate is not None else []

    def notification_json(self, n: _Notification) -> dict[str, Any]:
        seen = self.seen_at.get(n.recipient)
        body: dict[str, Any] = {
            "uri": n.post.uri,
            "cid": n.post.cid,
            "author": self.profile_json(n.post.author),
            "reason": n.reason,
            "record": n.post.record,
            "isRead": seen is not None and n.indexed_at <= seen,
            "indexedAt": _iso(n.indexed_at),
            "labels": [],
        }
        if n.reason_subject:
            body["reasonSubject"] = n.reason_subject
        return body

    def post_view(self, post: _Post) -> dict[str, Any]:
        replies = sum(
            1
            for p in self.posts.values()
            if (p.record.get("reply") or {}).get("parent", {}).get("uri") == post.uri
        )
        return {
            "uri": post.uri,
            "cid": post.cid,
            "author": self.profile_json(post.author),
            "record": post.record,
            "replyCount": replies,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": _iso(post.indexed_at),
            "labels": [],
        }
