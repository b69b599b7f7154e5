"""A local Bluesky PDS + AppView: sessions, notifications and posts over XRPC.

Wire format: ../shared/specs/social-platform-apis.md §4. One brand account (handle, DID
and app password) and customers created on the fly by the control API.

XRPC (``/xrpc/<nsid>``)
- ``com.atproto.server.createSession`` — limited to 30 per 5 min (counted in stats);
  ``refreshSession`` (``Bearer <refreshJwt>``, rotates: the old refresh token is revoked).
  Expired access token → 400 ``ExpiredToken``; unknown or wrong-scope token → 400
  ``InvalidToken``; no token → 401 ``AuthMissing``.
- ``app.bsky.notification.listNotifications`` — ``limit`` 1..100 (default 50), repeated
  ``reasons``, ``cursor``; newest first, the cursor pages toward older entries.
  ``app.bsky.notification.updateSeen``.
- ``com.atproto.repo.createRecord`` (``app.bsky.feed.post``: ≤ 300 graphemes and 3000
  bytes, ``reply`` needs ``root`` and ``parent`` strong refs), ``com.atproto.repo.getRecord``
  (posts and threadgates; none: 400 ``RecordNotFound``), ``app.bsky.feed.getPosts``.
- ``com.atproto.repo.putRecord`` for ``app.bsky.feed.threadgate`` (reply controls and
  ``hiddenReplies``): only in the session's own repo (another repo: 401
  ``AuthenticationRequired``), the lexicon checked (``post`` and ``createdAt`` required,
  ``allow`` ≤ 5 rules, ``hiddenReplies`` ≤ 300 uris) and, stricter than Bluesky (whose
  AppView silently ignores such a gate), ``post`` must be the post of that repo under
  the same rkey. A ``swapRecord`` (a CID, or null: "must not exist yet") that does not
  match the stored record → 400 ``InvalidSwap``.
- Authenticated answers carry ``RateLimit-Limit/Remaining/Reset`` (unix seconds) and
  ``RateLimit-Policy``; over the limit: 429 ``RateLimitExceeded``.
- Direct messages (``chat.bsky.convo.*`` behind the ``atproto-proxy`` header):
  ``emulators/bluesky_chat.py``.

Control API (``/_emulator``)
- ``POST /customer/mention`` ``{"handle", "display_name"?, "text"}`` — a post mentioning
  the brand (``@brand.handle`` is prepended when missing). Returns ``{"uri", "cid"}``.
- ``POST /customer/reply`` ``{"handle", "text", "parent_uri"}`` — a reply; the brand gets a
  ``reply`` notification when it wrote the parent.
- ``POST /customer/like`` ``{"handle", "uri"}`` — a ``like`` notification.
- ``POST /session/expire`` — every access token issued so far is now expired.
- ``POST /session/revoke`` — every refresh token is revoked (app password revoked).
- ``GET /stats`` — ``createSession``, ``refreshSession`` call counts, ``updateSeen`` values.
- ``GET /sent`` — records the client created or put; ``GET /requests`` — every XRPC call.
- ``GET /threadgate?post=<root post uri>`` — ``{"uri", "cid", "value", "hidden_replies"}``
  of that post's threadgate (``uri``/``cid``/``value`` null and no hidden replies when
  it has none).
- ``POST /faults`` ``{"status", "error"?, "message"?, "count"?, "nsid"?}``,
  ``POST /rate_limit`` ``{"limit", "window_seconds", "service"?: "chat"}``,
  ``POST /clock`` ``{"advance_seconds"}``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from socialdesk.emulators.bluesky_chat import ChatState, register_chat_routes

POST_COLLECTION = "app.bsky.feed.post"
THREADGATE_COLLECTION = "app.bsky.feed.threadgate"
THREADGATE_RULES = frozenset(
    f"{THREADGATE_COLLECTION}#{rule}"
    for rule in ("mentionRule", "followerRule", "followingRule", "listRule")
)
MAX_GATE_RULES = 5
MAX_HIDDEN_REPLIES = 300
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
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


def grapheme_count(text: str) -> int:
    """Approximate extended grapheme clusters: combining marks, variation selectors,
    skin tones, tags and ZWJ sequences join the previous cluster; flags are pairs."""
    count = 0
    after_zwj = False
    open_flag = False
    previous = ""
    for ch in text:
        cp = ord(ch)
        extends = (
            unicodedata.category(ch) in ("Mn", "Me", "Mc")
            or 0xFE00 <= cp <= 0xFE0F
            or 0x1F3FB <= cp <= 0x1F3FF
            or 0xE0020 <= cp <= 0xE007F
            or cp == 0x200D
            or (ch == "\n" and previous == "\r")
        )
        previous = ch
        if count and (extends or after_zwj):
            after_zwj = cp == 0x200D
            continue
        after_zwj = False
        if 0x1F1E6 <= cp <= 0x1F1FF:
            open_flag = not open_flag
            if not open_flag:
                continue
        else:
            open_flag = False
        count += 1
    return count


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
        default_factory=lambda: {"createSession": 0, "refreshSession": 0, "updateSeen": []}
    )
    sent: list[dict[str, Any]] = field(default_factory=list)
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


class _Reject(Exception):
    """Ends a request early with ``response`` (bad token, rate limit, injected fault)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _validate_post(record: object) -> str | None:
    """The lexicon check createRecord runs on ``app.bsky.feed.post``; None when valid."""
    prefix = "Invalid app.bsky.feed.post record: "
    if not isinstance(record, dict):
        return "Input/record must be an object"
    if record.get("$type") != POST_COLLECTION:
        return prefix + 'Record/$type must be "app.bsky.feed.post"'
    text = record.get("text")
    if not isinstance(text, str):
        return prefix + 'Record must have the property "text"'
    if grapheme_count(text) > MAX_GRAPHEMES:
        return prefix + f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes"
    if len(text.encode()) > MAX_BYTES:
        return prefix + f"Record/text must not be longer than {MAX_BYTES} characters"
    if _parse_datetime(record.get("createdAt")) is None:
        return (
            prefix
            + "Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)"
        )
    reply = record.get("reply")
    if reply is not None:
        if not isinstance(reply, dict):
            return prefix + "Record/reply must be an object"
        for name in ("root", "parent"):
            ref = reply.get(name)
            if not isinstance(ref, dict):
                return prefix + f'Record/reply must have the property "{name}"'
            if not str(ref.get("uri") or "").startswith("at://") or not isinstance(
                ref.get("cid"), str
            ):
                return prefix + f"Record/reply/{name} must be a strong ref (uri and cid)"
    return None


def _validate_threadgate(record: object, gate_uri: str) -> str | None:
    """The lexicon check putRecord runs on ``app.bsky.feed.threadgate``, plus the rule the
    AppView applies (the gated post is in the same repo under the same rkey)."""
    prefix = "Invalid app.bsky.feed.threadgate record: "
    if not isinstance(record, dict):
        return "Input/record must be an object"
    if record.get("$type") != THREADGATE_COLLECTION:
        return prefix + f'Record/$type must be "{THREADGATE_COLLECTION}"'
    post = record.get("post")
    if not isinstance(post, str) or not post.startswith("at://"):
        return prefix + 'Record must have the property "post" (an at-uri)'
    repo, _, rest = gate_uri.removeprefix("at://").partition("/")
    if post != f"at://{repo}/{POST_COLLECTION}/{rest.rpartition('/')[2]}":
        return prefix + "Record/post must be the post of this repo with the threadgate's rkey"
    if _parse_datetime(record.get("createdAt")) is None:
        return (
            prefix
            + "Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)"
        )
    allow = record.get("allow")
    if allow is not None:
        if not isinstance(allow, list) or len(allow) > MAX_GATE_RULES:
            return prefix + f"Record/allow must be an array of at most {MAX_GATE_RULES} rules"
        for rule in allow:
            if not isinstance(rule, dict) or rule.get("$type") not in THREADGATE_RULES:
                return prefix + "Record/allow items must be threadgate rules"
            if rule["$type"].endswith("#listRule") and not str(rule.get("list", "")).startswith(
                "at://"
            ):
                return prefix + 'Record/allow listRule must have the property "list"'
    hidden = record.get("hiddenReplies")
    if hidden is not None:
        if not isinstance(hidden, list) or len(hidden) > MAX_HIDDEN_REPLIES:
            return (
                prefix + f"Record/hiddenReplies must not have more than {MAX_HIDDEN_REPLIES} "
                "elements"
            )
        if not all(isinstance(u, str) and u.startswith("at://") for u in hidden):
            return prefix + "Record/hiddenReplies items must be at-uris"
    return None


def create_bluesky_app(**options: Any) -> FastAPI:
    """A FastAPI app emulating the brand's PDS; options go to ``BlueskyEmulator``."""
    emu = BlueskyEmulator(**options)
    app = FastAPI(title="Bluesky emulator")
    app.state.emulator = emu

    def error(
        status: int, name: str, message: str, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        return JSONResponse(
            {"error": name, "message": message}, status_code=status, headers=headers
        )

    @app.middleware("http")
    async def log_calls(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        if request.url.path.startswith("/xrpc/"):
            emu.requests.append(
                {
                    "method": request.method,
                    "nsid": request.url.path.removeprefix("/xrpc/"),
                    "query": str(request.url.query),
                    "status": response.status_code,
                }
            )
        return response

    def take_fault(nsid: str) -> JSONResponse | None:
        for fault in emu.faults:
            if fault["remaining"] > 0 and fault.get("nsid") in (None, nsid):
                fault["remaining"] -= 1
                return error(fault["status"], fault["error"], fault["message"])
        return None

    @app.exception_handler(_Reject)
    async def rejected(request: Request, exc: _Reject) -> Response:
        return exc.response

    def authorize(
        request: Request, nsid: str, window: _Window | None = None
    ) -> tuple[_Profile, dict[str, str]]:
        """(account, rate-limit headers); raises ``_Reject`` with the error answer."""
        checked = emu.check_token(request.headers.get("authorization", ""), "com.atproto.access")
        if isinstance(checked, tuple):
            raise _Reject(error(*checked))
        allowed, headers = (window or emu.api_window).take(emu.now())
        if not allowed:
            raise _Reject(error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers))
        fault = take_fault(nsid)
        if fault is not None:
            fault.headers.update(headers)
            raise _Reject(fault)
        return emu.profiles[checked.did], headers

    async def json_input(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _Reject(error(400, "InvalidRequest", "Request body must be a JSON object"))
        return body

    @app.post("/xrpc/com.atproto.server.createSession")
    async def create_session(request: Request) -> Response:
        emu.stats["createSession"] += 1
        allowed, headers = emu.session_window.take(emu.now())
        if not allowed:
            return error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
        body = await json_input(request)
        identifier = str(body.get("identifier") or "").lower().lstrip("@")
        if (
            identifier not in (emu.brand.handle, emu.brand.did)
            or body.get("password") != emu.app_password
        ):
            return error(401, "AuthenticationRequired", "Invalid identifier or password", headers)
        access, refresh = emu.issue_tokens(emu.brand.did)
        return JSONResponse(
            {
                "accessJwt": access,
                "refreshJwt": refresh,
                "handle": emu.brand.handle,
                "did": emu.brand.did,
                "email": "support@acme.example",
                "emailConfirmed": True,
                "active": True,
            },
            headers=headers,
        )

    @app.post("/xrpc/com.atproto.server.refreshSession")
    async def refresh_session(request: Request) -> Response:
        emu.stats["refreshSession"] += 1
        checked = emu.check_token(request.headers.get("authorization", ""), "com.atproto.refresh")
        if isinstance(checked, tuple):
            return error(*checked)
        checked.revoked = True
        access, refresh = emu.issue_tokens(checked.did)
        profile = emu.profiles[checked.did]
        return JSONResponse(
            {
                "accessJwt": access,
                "refreshJwt": refresh,
                "handle": profile.handle,
                "did": profile.did,
                "active": True,
            }
        )

    @app.get("/xrpc/app.bsky.notification.listNotifications")
    async def list_notifications(request: Request) -> Response:
        me, headers = authorize(request, "app.bsky.notification.listNotifications")
        query = request.query_params
        try:
            limit = int(query.get("limit", "50"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            return error(400, "InvalidRequest", "Error: limit must be between 1 and 100", headers)
        reasons = set(query.getlist("reasons"))
        pool = sorted(
            (
                n
                for n in emu.notifications
                if n.recipient == me.did and (not reasons or n.reason in reasons)
            ),
            key=lambda n: (n.indexed_at, n.seq),
            reverse=True,
        )
        if query.get("cursor"):
            when, _, seq = query["cursor"].partition("::")
            position = (_parse_datetime(when) or emu.now(), int(seq) if seq.isdigit() else -1)
            pool = [n for n in pool if (n.indexed_at, n.seq) < position]
        page = pool[:limit]
        body: dict[str, Any] = {"notifications": [emu.notification_json(n) for n in page]}
        if page:
            body["cursor"] = f"{_iso(page[-1].indexed_at)}::{page[-1].seq}"
        if me.did in emu.seen_at:
            body["seenAt"] = _iso(emu.seen_at[me.did])
        body["priority"] = False
        return JSONResponse(body, headers=headers)

    @app.post("/xrpc/app.bsky.notification.updateSeen")
    async def update_seen(request: Request) -> Response:
        me, headers = authorize(request, "app.bsky.notification.updateSeen")
        body = await json_input(request)
        seen = _parse_datetime(body.get("seenAt"))
        if seen is None:
            return error(
                400, "InvalidRequest", "Input/seenAt must be an valid atproto datetime", headers
            )
        emu.seen_at[me.did] = seen
        emu.stats["updateSeen"].append(body["seenAt"])
        return Response(status_code=200, headers=headers)

    @app.post("/xrpc/com.atproto.repo.createRecord")
    async def create_record(request: Request) -> Response:
        me, headers = authorize(request, "com.atproto.repo.createRecord")
        body = await json_input(request)
        if body.get("repo") not in (me.did, me.handle):
            return error(
                400, "InvalidRequest", "Input/repo must be the authenticated account", headers
            )
        if body.get("collection") != POST_COLLECTION:
            return error(
                400, "InvalidRequest", "Emulator supports app.bsky.feed.post only", headers
            )
        problem = _validate_post(body.get("record"))
        if problem is not None:
            return error(400, "InvalidRequest", problem, headers)
        post = emu.create_post(me, body["record"], body.get("rkey"))
        emu.sent.append(
            {
                "endpoint": "com.atproto.repo.createRecord",
                "body": body,
                "uri": post.uri,
                "cid": post.cid,
            }
        )
        result = {
            "uri": post.uri,
            "cid": post.cid,
            "commit": {"cid": _fake_cid(["commit", post.uri]), "rev": emu.tid()},
            "validationStatus": "valid",
        }
        return JSONResponse(result, headers=headers)

    @app.get("/xrpc/com.atproto.repo.getRecord")
    async def get_record(request: Request) -> Response:
        _, headers = authorize(request, "com.atproto.repo.getRecord")
        query = request.query_params
        repo = query.get("repo", "")
        profile = emu.profiles.get(repo) or next(
            (p for p in emu.profiles.values() if p.handle == repo.lower()), None
        )
        uri = (
            f"at://{profile.did if profile else repo}/{query.get('collection')}/{query.get('rkey')}"
        )
        post = emu.posts.get(uri)
        if post is not None:
            return JSONResponse(
                {"uri": post.uri, "cid": post.cid, "value": post.record}, headers=headers
            )
        gate = emu.threadgates.get(uri)
        if gate is not None:
            return JSONResponse(
                {"uri": gate.uri, "cid": gate.cid, "value": gate.value}, headers=headers
            )
        return error(400, "RecordNotFound", f"Could not locate record: {uri}", headers)

    @app.post("/xrpc/com.atproto.repo.putRecord")
    async def put_record(request: Request) -> Response:
        me, headers = authorize(request, "com.atproto.repo.putRecord")
        body = await json_input(request)
        repo = str(body.get("repo") or "")
        owner = emu.profiles.get(repo) or next(
            (p for p in emu.profiles.values() if p.handle == repo.lower()), None
        )
        if owner is None:
            return error(400, "InvalidRequest", f"Could not find repo: {repo}", headers)
        if owner.did != me.did:
            return error(401, "AuthenticationRequired", "Authentication Required", headers)
        if body.get("collection") != THREADGATE_COLLECTION:
            return error(
                400, "InvalidRequest", "Emulator puts app.bsky.feed.threadgate only", headers
            )
        rkey = body.get("rkey")
        if not isinstance(rkey, str) or not rkey:
            return error(400, "InvalidRequest", 'Input must have the property "rkey"', headers)
        uri = f"at://{me.did}/{THREADGATE_COLLECTION}/{rkey}"
        problem = _validate_threadgate(body.get("record"), uri)
        if problem is not None:
            return error(400, "InvalidRequest", problem, headers)
        current = emu.threadgates.get(uri)
        if "swapRecord" in body and body["swapRecord"] != (current.cid if current else None):
            at = current.cid if current else "null"
            return error(400, "InvalidSwap", f"Record was at {at}", headers)
        record: dict[str, Any] = body["record"]
        stored = _Record(uri, _fake_cid([uri, record]), record)
        emu.threadgates[uri] = stored
        emu.sent.append(
            {
                "endpoint": "com.atproto.repo.putRecord",
                "body": body,
                "uri": stored.uri,
                "cid": stored.cid,
            }
        )
        result = {
            "uri": stored.uri,
            "cid": stored.cid,
            "commit": {"cid": _fake_cid(["commit", stored.uri, stored.cid]), "rev": emu.tid()},
            "validationStatus": "valid",
        }
        return JSONResponse(result, headers=headers)

    @app.get("/xrpc/app.bsky.feed.getPosts")
    async def get_posts(request: Request) -> Response:
        _, headers = authorize(request, "app.bsky.feed.getPosts")
        uris = request.query_params.getlist("uris")
        if len(uris) > 25:
            return error(
                400, "InvalidRequest", "Error: uris must not have more than 25 elements", headers
            )
        posts = [emu.post_view(emu.posts[u]) for u in uris if u in emu.posts]
        return JSONResponse({"posts": posts}, headers=headers)

    # -- control API -------------------------------------------------------------------

    @app.post("/_emulator/customer/mention")
    async def customer_mention(request: Request) -> dict[str, str]:
        body = await request.json()
        author = emu.profile(
            str(body.get("handle") or "customer.bsky.social"), body.get("display_name")
        )
        text = str(body.get("text") or "")
        if f"@{emu.brand.handle}" not in text.lower():
            text = f"@{emu.brand.handle} {text}"
        post = emu.create_post(author, emu.customer_record(text))
        return {"uri": post.uri, "cid": post.cid}

    @app.post("/_emulator/customer/reply")
    async def customer_reply(request: Request) -> Response:
        body = await request.json()
        author = emu.profile(
            str(body.get("handle") or "customer.bsky.social"), body.get("display_name")
        )
        parent = emu.posts.get(str(body.get("parent_uri")))
        if parent is None:
            return error(400, "RecordNotFound", "Could not locate record")
        post = emu.create_post(author, emu.customer_record(str(body.get("text") or ""), parent))
        return JSONResponse({"uri": post.uri, "cid": post.cid})

    @app.post("/_emulator/customer/like")
    async def customer_like(request: Request) -> Response:
        body = await request.json()
        author = emu.profile(str(body.get("handle") or "customer.bsky.social"))
        post = emu.posts.get(str(body.get("uri")))
        if post is None:
            return error(400, "RecordNotFound", "Could not locate record")
        like = _Post(
            f"at://{author.did}/app.bsky.feed.like/{emu.tid()}", "", author, {}, emu.index_time()
        )
        like.record = {"$type": "app.bsky.feed.like", "subject": {"uri": post.uri, "cid": post.cid}}
        like.cid = _fake_cid(like.record)
        emu._notify(post.author.did, like, "like", post.uri)
        return JSONResponse({"uri": like.uri})

    @app.post("/_emulator/session/expire")
    async def expire_sessions() -> dict[str, int]:
        expired = 0
        for token in emu.tokens.values():
            if token.scope == "com.atproto.access" and token.expires_at > emu.now():
                token.expires_at = emu.now()
                expired += 1
        return {"expired": expired}

    @app.post("/_emulator/session/revoke")
    async def revoke_sessions() -> dict[str, int]:
        refresh = [t for t in emu.tokens.values() if t.scope == "com.atproto.refresh"]
        for token in refresh:
            token.revoked = True
        return {"revoked": len(refresh)}

    @app.get("/_emulator/threadgate")
    async def threadgate(post: str) -> dict[str, Any]:
        gate = emu.threadgate_of(post)
        return {
            "uri": gate.uri if gate else None,
            "cid": gate.cid if gate else None,
            "value": gate.value if gate else None,
            "hidden_replies": emu.hidden_replies(post),
        }

    @app.get("/_emulator/stats")
    async def stats() -> dict[str, Any]:
        return emu.stats

    @app.get("/_emulator/sent")
    async def sent() -> list[dict[str, Any]]:
        return emu.sent

    @app.get("/_emulator/requests")
    async def requests() -> list[dict[str, Any]]:
        return emu.requests

    @app.post("/_emulator/faults")
    async def faults(request: Request) -> dict[str, int]:
        body = await request.json()
        status = int(body["status"])
        name = body.get("error") or ("InternalServerError" if status >= 500 else "InvalidRequest")
        emu.faults.append(
            {
                "status": status,
                "error": name,
                "message": str(body.get("message") or name),
                "remaining": int(body.get("count", 1)),
                "nsid": body.get("nsid"),
            }
        )
        return {"queued": len(emu.faults)}

    @app.post("/_emulator/rate_limit")
    async def rate_limit(request: Request) -> dict[str, int]:
        body = await request.json()
        window = _Window(int(body.get("limit", 3000)), int(body.get("window_seconds", 300)))
        if body.get("service") == "chat":
            emu.chat_window = window
        else:
            emu.api_window = window
        return {"limit": window.limit, "window_seconds": window.seconds}

    @app.post("/_emulator/clock")
    async def clock(request: Request) -> dict[str, str]:
        body = await request.json()
        emu.clock_offset += timedelta(seconds=float(body.get("advance_seconds", 0)))
        return {"now": _iso(emu.now())}

    register_chat_routes(
        app,
        emu,
        authorize=authorize,
        error=error,
        json_input=json_input,
        grapheme_count=grapheme_count,
        iso=_iso,
    )
    return app
