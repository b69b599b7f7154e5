"""Bluesky (AT Protocol): mention/reply polling and threaded replies over XRPC; direct
messages (chat log polling, sending, opening a convo) through ``bluesky_chat``; hiding a
reply through the threadgate of the brand's own thread (``set_hidden``, the record work
in ``bluesky_threadgate``). Notifications become messages in ``bluesky_notifications``.

Wire format: ../shared/specs/social-platform-apis.md §4. The connector logs in once per
account (``createSession``) and from then on only refreshes (``refreshSession``) when the
access token expires: logging in per request runs into the 30-per-5-minutes login limit.
Tokens handed out are reported through ``on_session`` so the caller can store them and
pass them back in ``account.secrets`` (``access_jwt``, ``refresh_jwt``) after a restart.
Several connectors share one account's session through that store: Bluesky revokes a
refresh token once used, so a connector whose token expired first adopts a newer stored
pair (another connector refreshed) before refreshing itself (``_refresh``).

A public reply is posted at a record key derived from the outbox row's idempotency key,
so it can be read back after a crash and is never posted twice (``bluesky_posts``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import inspect
import json
import logging
import re
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from socialdesk.channels.base import (
    AccountRef,
    Identity,
    LazyHttpClient,
    OutboundRequest,
    PollResult,
    RateLimitState,
    ReplyKind,
    SendError,
    SendFailure,
    SendResult,
)
from socialdesk.channels.bluesky.chat import BlueskyChat, join_cursor, split_cursor
from socialdesk.channels.bluesky.images import images_embed
from socialdesk.channels.bluesky.notifications import (
    POLL_REASONS,
    POST_COLLECTION,
    notification_message,
    parse_time,
)
from socialdesk.channels.bluesky.notifications import (
    strip_leading_handles as strip_leading_handles,  # re-exported: tests import it from here
)
from socialdesk.channels.bluesky.posts import BlueskyPosts, reply_rkey
from socialdesk.channels.bluesky.threadgate import (
    NOT_THREAD_AUTHOR,
    BlueskyThreadgates,
    parse_at_uri,
    why_brand_cannot_hide,
)
from socialdesk.channels.search import MAX_SEARCH_PAGES, FoundPost, SearchPage
from socialdesk.domain.enums import Direction, Platform, Visibility
from socialdesk.domain.messages import InboundMessage

log = logging.getLogger(__name__)

# The cursor of a first poll that found nothing: everything after it is new.
EPOCH_CURSOR = "1970-01-01T00:00:00.000Z|"
_AUTH_ERRORS = frozenset(
    {"InvalidToken", "ExpiredToken", "AuthMissing", "AuthenticationRequired",
     "AccountTakedown", "AccountDeactivated"}
)  # fmt: skip
_URL_RE = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]']", re.IGNORECASE)
_CACHE_SIZE = 5000

SessionCallback = Callable[[int, str, str], object]
SEARCH_POSTS = "app.bsky.feed.searchPosts"


@dataclass(frozen=True, slots=True)
class Session:
    did: str
    handle: str
    access_jwt: str
    refresh_jwt: str


def _iso_now() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def link_facets(text: str) -> list[dict[str, Any]]:
    """Rich-text facets making the URLs in ``text`` links (offsets in UTF-8 bytes)."""
    facets = []
    for match in _URL_RE.finditer(text):
        start = len(text[: match.start()].encode())
        end = start + len(match.group(0).encode())
        facets.append(
            {
                "index": {"byteStart": start, "byteEnd": end},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": match.group(0)}],
            }
        )
    return facets


def _error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return str(body.get("error") or ""), str(body.get("message") or body.get("error") or "")
    return "", response.reason_phrase or f"HTTP {response.status_code}"


def classify_error(response: httpx.Response) -> SendError:
    """Map an XRPC error to a ``SendError`` by status and error name, not message text."""
    status = response.status_code
    name, message = _error_of(response)
    message = message or name or f"HTTP {status}"
    code = name or str(status)
    if status == 429:
        reset = response.headers.get("ratelimit-reset", "")
        retry_at = datetime.fromtimestamp(int(reset), tz=UTC) if reset.isdigit() else None
        return SendError(SendFailure.RATE_LIMITED, message, code=code, retry_at=retry_at)
    if status == 401 or name in _AUTH_ERRORS:
        return SendError(SendFailure.AUTH_REVOKED, message, code=code)
    if status >= 500 or status == 408:
        return SendError(SendFailure.RETRYABLE, message, code=code)
    return SendError(SendFailure.PERMANENT, message, code=code)


def _issued_at(jwt: str) -> int | None:
    """The ``iat`` claim of a JWT, read without checking the signature (only to tell
    which of two of our own tokens is newer); None when it cannot be read."""
    parts = jwt.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    issued = claims.get("iat") if isinstance(claims, dict) else None
    return issued if isinstance(issued, int) else None


def _is_expired(response: httpx.Response) -> bool:
    return response.status_code == 400 and _error_of(response)[0] == "ExpiredToken"


class BlueskyConnector(LazyHttpClient):
    """Talks to the brand's PDS at ``base_url``.

    ``account.secrets``: ``identifier`` (handle, DID or e-mail; defaults to the account
    handle) and ``app_password`` for the one login, or ``access_jwt``/``refresh_jwt``
    (and ``did``) stored from an earlier ``on_session(account_id, access, refresh)``.
    """

    platform = Platform.BLUESKY

    def __init__(
        self,
        base_url: str,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        on_session: SessionCallback | None = None,
        timeout: float = 10.0,
        page_limit: int = 50,
        max_pages: int = 100,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._transport = transport
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self.on_session = on_session
        self.page_limit = min(max(page_limit, 1), 100)
        self.max_pages = max_pages
        self._sessions: dict[int, Session] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._limits: dict[int, RateLimitState] = {}
        # Access tokens this connector has moved on from, per account: a stored pair
        # holding one of them is older than the session, never one to adopt.
        self._replaced: dict[int, deque[str]] = {}
        # post uri → (cid, reply root strong ref or None): learned while polling/sending.
        self._posts: OrderedDict[str, tuple[str, dict[str, str] | None]] = OrderedDict()
        self.chat = BlueskyChat(self._xrpc, max_pages=max_pages)
        self.threadgates = BlueskyThreadgates(self._xrpc)
        self.posts = BlueskyPosts(self._xrpc, self._remember)

    # -- sessions ----------------------------------------------------------------------

    def _lock(self, account: AccountRef) -> asyncio.Lock:
        return self._locks.setdefault(account.id, asyncio.Lock())

    async def session(self, account: AccountRef) -> Session:
        """The cached session; restored from stored tokens, else one ``createSession``."""
        async with self._lock(account):
            cached = self._sessions.get(account.id)
            if cached is not None:
                return cached
            stored = account.secrets
            if stored.get("access_jwt") and stored.get("refresh_jwt"):
                restored = Session(
                    did=stored.get("did") or account.external_id,
                    handle=account.handle,
                    access_jwt=stored["access_jwt"],
                    refresh_jwt=stored["refresh_jwt"],
                )
                self._sessions[account.id] = restored
                return restored
            password = stored.get("app_password")
            if not password:
                raise SendError(SendFailure.AUTH_REVOKED, "account has no app password")
            identifier = stored.get("identifier") or account.handle
            response = await self._post_raw(
                "com.atproto.server.createSession",
                json_body={"identifier": identifier, "password": password},
            )
            self._record_limits(account, response)
            if response.status_code >= 400:
                error = classify_error(response)
                if response.status_code in (400, 401) and error.failure is SendFailure.PERMANENT:
                    error = SendError(SendFailure.AUTH_REVOKED, error.reason, code=error.code)
                log.warning("bluesky login failed for account %s: %s", account.id, error.code)
                raise error
            log.info("bluesky: created a session for account %s", account.id)
            return await self._store_session(account, response)

    async def _refresh(self, account: AccountRef, stale: Session) -> Session:
        """A session to use instead of ``stale``, whose access token expired.

        Trades the refresh token for a new pair, once, however many calls saw the access
        token expire at the same time. But first: when the stored pair (``account.secrets``,
        read afresh for each operation) is not the stale one, another connector or process
        has refreshed already, and Bluesky revoked the refresh token this connector holds;
        that pair is adopted without a call (``_xrpc`` refreshes with it if it fails too)."""
        return (await self._renew(account, stale))[0]

    async def _renew(self, account: AccountRef, stale: Session) -> tuple[Session, bool]:
        """``_refresh``, and whether the session came from storage untried."""
        async with self._lock(account):
            current = self._sessions.get(account.id)
            if current is not None and current.access_jwt != stale.access_jwt:
                return current, False
            self._replaced.setdefault(account.id, deque(maxlen=8)).append(stale.access_jwt)
            stored = account.secrets
            stored_access, stored_refresh = stored.get("access_jwt"), stored.get("refresh_jwt")
            if stored_access and stored_refresh and self._may_adopt(account, stored_access, stale):
                adopted = Session(
                    did=stored.get("did") or stale.did,
                    handle=stale.handle,
                    access_jwt=stored_access,
                    refresh_jwt=stored_refresh,
                )
                self._sessions[account.id] = adopted
                log.info("bluesky: took over the stored session of account %s", account.id)
                return adopted, True
            response = await self._post_raw(
                "com.atproto.server.refreshSession", bearer=stale.refresh_jwt
            )
            if response.status_code >= 400:
                error = classify_error(response)
                if error.failure is SendFailure.AUTH_REVOKED or response.status_code == 400:
                    self._sessions.pop(account.id, None)
                    reason = f"session refresh failed: {error.reason}"
                    error = SendError(SendFailure.AUTH_REVOKED, reason, code=error.code)
                log.warning("bluesky refresh failed for account %s: %s", account.id, error.code)
                raise error
            log.info("bluesky: refreshed the session for account %s", account.id)
            return await self._store_session(account, response, previous=current or stale), False

    def _may_adopt(self, account: AccountRef, stored_access: str, stale: Session) -> bool:
        """Whether the stored access token is newer than ``stale``'s. The account was
        read when the operation began, so the stored pair may predate a refresh this
        connector made since; adopting that would trade a live session for a dead one."""
        if stored_access in self._replaced.get(account.id, ()):
            return False
        stored_at, stale_at = _issued_at(stored_access), _issued_at(stale.access_jwt)
        return stored_at is None or stale_at is None or stored_at >= stale_at

    async def _store_session(
        self, account: AccountRef, response: httpx.Response, previous: Session | None = None
    ) -> Session:
        body = response.json()
        if not isinstance(body, dict) or not body.get("accessJwt") or not body.get("refreshJwt"):
            raise SendError(SendFailure.RETRYABLE, "the PDS returned no tokens")
        session = Session(
            did=str(body.get("did") or (previous.did if previous else account.external_id)),
            handle=str(body.get("handle") or (previous.handle if previous else account.handle)),
            access_jwt=str(body["accessJwt"]),
            refresh_jwt=str(body["refreshJwt"]),
        )
        self._sessions[account.id] = session
        if self.on_session is not None:
            outcome = self.on_session(account.id, session.access_jwt, session.refresh_jwt)
            if inspect.isawaitable(outcome):
                await outcome
        return session

    # -- HTTP --------------------------------------------------------------------------

    async def _post_raw(
        self, nsid: str, *, json_body: Mapping[str, object] | None = None, bearer: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        return await self._send_http("POST", nsid, json_body=json_body, headers=headers)

    async def _send_http(
        self,
        method: str,
        nsid: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        json_body: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        try:
            return await self._http().request(
                method,
                f"{self._base_url}/xrpc/{nsid}",
                params=list(params),
                json=json_body,
                content=content,
                headers=dict(headers or {}),
            )
        except httpx.TimeoutException:
            raise SendError(SendFailure.RETRYABLE, "timed out talking to Bluesky") from None
        except httpx.TransportError as exc:
            raise SendError(SendFailure.RETRYABLE, f"network error: {type(exc).__name__}") from None

    async def _xrpc(
        self,
        account: AccountRef,
        method: str,
        nsid: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        json_body: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> dict[str, Any]:
        """One authenticated call; an expired access token is refreshed and the call
        retried once (twice when the first new session was a stored one that had
        expired as well). ``headers`` adds to the bearer (the chat proxy header)."""
        session = await self.session(account)
        retries = 1
        while True:
            response = await self._send_http(
                method,
                nsid,
                params=params,
                json_body=json_body,
                headers={**(headers or {}), "Authorization": f"Bearer {session.access_jwt}"},
                content=content,
            )
            self._record_limits(account, response)
            if retries == 0 or not _is_expired(response):
                break
            session, adopted = await self._renew(account, session)
            retries -= 0 if adopted else 1
        if response.status_code >= 400:
            error = classify_error(response)
            log.warning("bluesky %s for account %s: %s", nsid, account.id, error.code)
            raise error
        if not response.content:
            return {}
        try:
            body = response.json()
        except ValueError:
            raise SendError(SendFailure.RETRYABLE, "Bluesky answered with non-JSON") from None
        return body if isinstance(body, dict) else {}

    def _record_limits(self, account: AccountRef, response: httpx.Response) -> None:
        headers = response.headers
        if "ratelimit-limit" not in headers:
            return
        limit, remaining, reset = (
            headers.get(f"ratelimit-{name}", "") for name in ("limit", "remaining", "reset")
        )
        self._limits[account.id] = RateLimitState(
            limit=int(limit) if limit.isdigit() else None,
            remaining=int(remaining) if remaining.isdigit() else None,
            reset_at=datetime.fromtimestamp(int(reset), tz=UTC) if reset.isdigit() else None,
        )

    def rate_limit(self, account: AccountRef) -> RateLimitState:
        """The ``RateLimit-*`` headers last seen for this account."""
        return self._limits.get(account.id, RateLimitState())

    def _remember(self, uri: str, cid: str, root: dict[str, str] | None) -> None:
        self._posts[uri] = (cid, root)
        self._posts.move_to_end(uri)
        while len(self._posts) > _CACHE_SIZE:
            self._posts.popitem(last=False)

    # -- polling -----------------------------------------------------------------------

    async def identify(self, account: AccountRef) -> Identity:
        """``com.atproto.server.getSession`` with the account's session (logging in with
        the app password first when none is stored): the DID and handle it belongs to."""
        body = await self._xrpc(account, "GET", "com.atproto.server.getSession")
        return Identity(str(body.get("did") or ""), str(body.get("handle") or ""))

    async def poll(self, account: AccountRef, cursor: str | None) -> PollResult:
        """Mentions and replies, then direct messages, newer than ``cursor``.

        The cursor is the notification cursor, followed by `` dm:<rev>`` once the chat
        log has been read (``bluesky_chat.split_cursor``). Direct messages are read
        unless the account's ``settings.direct_messages`` is false (an app password
        without DM access)."""
        notifications, rev = split_cursor(cursor)
        result = await self._poll_notifications(account, notifications)
        if account.settings.get("direct_messages") is False:
            return PollResult(result.messages, join_cursor(result.cursor, rev))
        session = await self.session(account)
        own = {account.external_id, session.did} - {""}
        dms, rev = await self.chat.poll(account, rev, own)
        return PollResult([*result.messages, *dms], join_cursor(result.cursor, rev))

    async def find_sent_message(
        self, account: AccountRef, request: OutboundRequest
    ) -> SendResult | None:
        """This request's post or DM if it went out already: the delivery worker asks
        before sending a reply again after a crash or a failed attempt.

        A public reply is read back from its derived rkey (``bluesky_posts``); a DM is
        looked for in the convo (``BlueskyChat.find_sent``)."""
        session = await self.session(account)
        if request.kind is ReplyKind.PUBLIC_REPLY and request.visibility is not Visibility.PRIVATE:
            rkey = reply_rkey(request.idempotency_key, request.created_at, request.body)
            return await self.posts.find(account, session.did, rkey, request.body)
        return await self.chat.find_sent(
            account, request, {account.external_id, session.did} - {""}
        )

    async def open_conversation(self, account: AccountRef, did: str) -> str:
        """The convo id of a direct conversation with ``did``, created if needed."""
        return await self.chat.open_convo(account, did)

    async def _poll_notifications(self, account: AccountRef, cursor: str | None) -> PollResult:
        """Mentions and replies newer than ``cursor`` (``"<indexedAt>|<uri>"`` of the
        newest notification already processed), oldest first; then ``updateSeen``.

        Pages are walked newest-first until the cursor's uri (or anything indexed
        before it) shows up. Without a cursor only the newest page is read."""
        stop_uri, stop_time = None, None
        if cursor:
            when, _, stop_uri = cursor.partition("|")
            stop_time = parse_time(when)
        fresh: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        page_cursor: str | None = None
        reached = False
        for _ in range(self.max_pages):
            params = [("limit", str(self.page_limit))] + [("reasons", r) for r in POLL_REASONS]
            if page_cursor:
                params.append(("cursor", page_cursor))
            body = await self._xrpc(
                account, "GET", "app.bsky.notification.listNotifications", params=params
            )
            items = [n for n in body.get("notifications") or [] if isinstance(n, dict)]
            for item in items:
                indexed = parse_time(item.get("indexedAt"))
                if item.get("uri") == stop_uri or (
                    stop_time is not None and indexed is not None and indexed < stop_time
                ):
                    reached = True
                    break
                key = (str(item.get("uri")), str(item.get("reason")))
                if key not in seen:
                    seen.add(key)
                    fresh.append(item)
            page_cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            if reached or not items or not page_cursor or cursor is None:
                break
        else:
            log.warning(
                "bluesky poll for account %s stopped after %d pages", account.id, self.max_pages
            )
        if not fresh:
            return PollResult(messages=[], cursor=cursor or EPOCH_CURSOR)
        newest = fresh[0]
        messages = []
        for item in reversed(fresh):
            message = self.parse_notification(account, item)
            if message is not None:
                messages.append(message)
        try:
            await self._xrpc(
                account,
                "POST",
                "app.bsky.notification.updateSeen",
                json_body={"seenAt": newest["indexedAt"]},
            )
        except SendError as exc:
            log.warning("bluesky updateSeen failed for account %s: %s", account.id, exc.code)
        return PollResult(messages=messages, cursor=f"{newest['indexedAt']}|{newest['uri']}")

    def parse_notification(
        self, account: AccountRef, notification: Mapping[str, Any]
    ) -> InboundMessage | None:
        """A ``mention``/``reply`` notification of a post → ``InboundMessage``."""
        session = self._sessions.get(account.id)
        return notification_message(
            account,
            notification,
            own_dids={account.external_id, session.did if session else ""} - {""},
            brand_handles={account.handle, session.handle if session else ""},
            remember_post=self._remember,
        )

    # -- listening ---------------------------------------------------------------------

    async def search_posts(
        self, account: AccountRef, kind: str, query: str, cursor: str | None
    ) -> SearchPage:
        """``app.bsky.feed.searchPosts`` (``sort=latest``) for posts indexed since
        ``cursor`` (the newest ``indexedAt`` read so far; inclusive, so the newest post
        comes again and is dropped as already stored), following the result cursor for
        a few pages; oldest first, the brand's own posts left out."""
        session = await self.session(account)
        own = {account.external_id, session.did} - {""}
        params = [("q", query), ("sort", "latest"), ("limit", "100")]
        if cursor:
            params.append(("since", cursor))
        views: list[dict[str, Any]] = []
        page_cursor: str | None = None
        for _ in range(MAX_SEARCH_PAGES):
            extra = [("cursor", page_cursor)] if page_cursor else []
            body = await self._xrpc(account, "GET", SEARCH_POSTS, params=[*params, *extra])
            views.extend(p for p in body.get("posts") or [] if isinstance(p, dict))
            page_cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            if not page_cursor:
                break
        newest = cursor
        posts = []
        for view in reversed(views):
            indexed = str(view.get("indexedAt") or "")
            if indexed and (newest is None or indexed > newest):
                newest = indexed
            message = notification_message(
                account,
                {**view, "reason": "mention"},
                own_dids=own,
                brand_handles=set(),
                remember_post=self._remember,
            )
            if message is not None and message.direction is Direction.INBOUND:
                message.extra["reason"] = "search"
                posts.append(FoundPost(message, view))
        return SearchPage(posts, newest)

    # -- sending -----------------------------------------------------------------------

    async def send(self, account: AccountRef, request: OutboundRequest) -> SendResult:
        """A reply post threaded under ``in_reply_to_id`` (root taken from the parent) at
        the rkey derived from the request's idempotency key, or a direct message into the
        request's convo (``bluesky_chat``)."""
        if request.kind is not ReplyKind.PUBLIC_REPLY or request.visibility is Visibility.PRIVATE:
            return await self.chat.send(account, request, link_facets(request.body))
        if not request.in_reply_to_id:
            raise SendError(SendFailure.PERMANENT, "a Bluesky reply needs in_reply_to_id")
        if request.conversation_id and not request.in_reply_to_id.startswith("at://"):
            # The customer only wrote by DM: there is no post to answer in public.
            raise SendError(
                SendFailure.PERMANENT,
                "this customer wrote a direct message, not a post: reply privately",
            )
        parent, root = await self._thread_refs(account, request.in_reply_to_id)
        created_at = _iso_now()
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": request.body,
            "createdAt": created_at,
            "reply": {"root": root, "parent": parent},
        }
        facets = link_facets(request.body)
        if facets:
            record["facets"] = facets
        if request.images:
            record["embed"] = await images_embed(self._xrpc, account, request.images)
        session = await self.session(account)
        rkey = reply_rkey(request.idempotency_key, request.created_at, request.body)
        return await self.posts.create_reply(account, session.did, record, rkey)

    async def _thread_refs(
        self, account: AccountRef, parent_uri: str
    ) -> tuple[dict[str, str], dict[str, str]]:
        """(parent, root) strong refs: the root is the parent's own ``reply.root`` when it
        is itself a reply, else the parent."""
        cached = self._posts.get(parent_uri)
        if cached is not None:
            parent = {"uri": parent_uri, "cid": cached[0]}
            return parent, cached[1] or parent
        posts = (
            await self._xrpc(
                account, "GET", "app.bsky.feed.getPosts", params=[("uris", parent_uri)]
            )
        ).get("posts") or []
        found = next((p for p in posts if isinstance(p, dict) and p.get("uri") == parent_uri), None)
        if found is not None:
            cid, record = found.get("cid"), found.get("record")
        else:
            repo, collection, rkey = parse_at_uri(parent_uri)
            params = [("repo", repo), ("collection", collection), ("rkey", rkey)]
            got = await self._xrpc(account, "GET", "com.atproto.repo.getRecord", params=params)
            cid, record = got.get("cid"), got.get("value")
        if not isinstance(cid, str):
            raise SendError(SendFailure.PERMANENT, f"cannot find the post {parent_uri}")
        reply = record.get("reply") if isinstance(record, dict) else None
        root = reply.get("root") if isinstance(reply, dict) else None
        root_ref = (
            {"uri": str(root["uri"]), "cid": str(root["cid"])}
            if isinstance(root, dict) and root.get("uri") and root.get("cid")
            else None
        )
        self._remember(parent_uri, cid, root_ref)
        parent = {"uri": parent_uri, "cid": cid}
        return parent, root_ref or parent

    # -- hiding replies ----------------------------------------------------------------

    async def set_hidden(
        self,
        account: AccountRef,
        platform_message_id: str,
        hidden: bool,
        *,
        root_uri: str | None = None,
    ) -> bool:
        """Hide (or unhide) the reply ``platform_message_id`` (a post uri) through the
        threadgate of its thread's first post (``bluesky_threadgate``).

        ``root_uri`` is the thread's first post when the caller knows it; otherwise it
        is read from the reply's own record. A thread the brand did not start raises
        SendError(PERMANENT, code ``NOT_THREAD_AUTHOR``) before anything is written."""
        parse_at_uri(platform_message_id)
        session = await self.session(account)
        if root_uri is None:
            _parent, root = await self._thread_refs(account, platform_message_id)
            root_uri = root["uri"]
        brand = {account.external_id, account.secrets.get("did", ""), session.did} - {""}
        refusal = why_brand_cannot_hide(platform_message_id, root_uri, brand)
        if refusal is not None:
            raise SendError(SendFailure.PERMANENT, refusal, code=NOT_THREAD_AUTHOR)
        return await self.threadgates.set_reply_hidden(
            account, session.did, root_uri, platform_message_id, hidden, _iso_now()
        )
