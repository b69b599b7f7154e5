"""X (Twitter): Account Activity webhooks, mentions polling, replies and DMs (API v2).

Wire format: ../shared/specs/social-platform-apis.md §1. Ids are always read from the
string fields (``id_str``, ``id`` in v2); the numeric v1.1 ``id`` loses precision.
Webhook bodies are parsed in ``x_events``, polled v2 shapes in ``x_polling``. OAuth 2.0
user tokens expire after about two hours; with a ``refresh_token`` and ``client_id`` in
the account's secrets a call answered 401 is retried once after ``x_tokens`` refreshed
the token (stored through ``on_tokens``).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from socialdesk.channels.base import (
    AccountRef,
    AccountResolver,
    Identity,
    LazyHttpClient,
    OutboundImage,
    OutboundRequest,
    ParsedEvent,
    PayloadError,
    PollResult,
    RateLimitState,
    ReplyKind,
    SendError,
    SendFailure,
    SendResult,
    VerificationError,
)
from socialdesk.channels.search import MAX_SEARCH_PAGES, FoundPost, SearchPage
from socialdesk.channels.signatures import (
    X_SIGNATURE_HEADER,
    verify_x_signature,
    x_crc_response_token,
)
from socialdesk.channels.x.attachments import included_media
from socialdesk.channels.x.events import parse_account_activity
from socialdesk.channels.x.polling import (
    DM_EVENT_FIELDS,
    DM_EVENTS_BUCKET,
    MAX_DM_POLL_PAGES,
    included_users,
    parse_poll_cursor,
    parse_v2_dm,
    parse_v2_tweet,
    poll_cursor,
)
from socialdesk.channels.x.tokens import (
    SecretsLoader,
    TokenPair,
    TokensCallback,
    XTokenRefresher,
    can_refresh,
)
from socialdesk.domain.enums import Platform
from socialdesk.domain.messages import InboundMessage

DEFAULT_BASE_URL = "https://api.x.com"
# A multipart upload: form fields and files (name → (file name, bytes, type)).
Upload = tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]
DUPLICATE_DETAIL = "duplicate content"
MENTION_FIELDS = {
    "tweet.fields": (
        "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,attachments"
    ),
    "expansions": "author_id,referenced_tweets.id,attachments.media_keys",
    "media.fields": "type,url,preview_image_url,alt_text,variants",
    "user.fields": "username,name,public_metrics",
}
SEARCH_BUCKET = "GET /2/tweets/search/recent"
# X keeps the 800 most recent mentions reachable: 8 pages of 100.
MAX_POLL_PAGES = 8
_URL_RE = re.compile(r"https?://\S+", re.IGNORECASE)


def _obj(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _id_key(value: str) -> tuple[int, str]:
    """Sort key putting numeric ids in numeric order."""
    return (len(value), value)


def newest_id(*ids: str | None) -> str | None:
    present = [i for i in ids if i]
    return max(present, key=_id_key) if present else None


def _normalize_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return " ".join(_URL_RE.sub("<url>", text).split())


class XConnector(LazyHttpClient):
    """Talks to X through ``base_url``; an ``httpx`` transport or client can be injected.

    ``app_id`` is our X app id: DMs whose ``source_app_id`` is ours are echoes.
    ``poll_overlap_seconds`` re-reads that much time before the cursor on each poll
    (X indexes some mentions late); the pipeline drops the repeats.
    ``on_tokens(account_id, {"access_token", "refresh_token"})`` stores a refreshed pair
    in the account's secrets, so the next operation (and other processes) use it;
    ``load_secrets(account_id)`` reads them back when another process may have refreshed.
    """

    platform = Platform.X

    def __init__(
        self,
        consumer_secret: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        client: httpx.AsyncClient | None = None,
        app_id: str | None = None,
        timeout: float = 10.0,
        poll_overlap_seconds: float = 0.0,
        poll_page_size: int = 100,
        on_tokens: TokensCallback | None = None,
        load_secrets: SecretsLoader | None = None,
    ) -> None:
        self._consumer_secret = consumer_secret or ""
        self._base_url = base_url.rstrip("/")
        self._transport = transport
        self._client = client
        self._owns_client = client is None
        self._timeout = timeout
        self.app_id = app_id
        self.poll_overlap_seconds = poll_overlap_seconds
        self.poll_page_size = max(5, min(100, poll_page_size))
        self._limits: dict[tuple[int, str], RateLimitState] = {}
        self.tokens = XTokenRefresher(
            self._http, self._base_url, classify_error, on_tokens, load_secrets
        )

    # -- lifecycle ---------------------------------------------------------------

    # -- webhooks ----------------------------------------------------------------

    def crc_response(self, crc_token: str) -> dict[str, str]:
        """The JSON body answering X's CRC GET. VerificationError (400) for a token
        that is not token-shaped, so the endpoint cannot be used as a signing oracle."""
        try:
            token = x_crc_response_token(self._consumer_secret, crc_token)
        except ValueError as exc:
            raise VerificationError(str(exc), status_code=400) from None
        return {"response_token": token}

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        """Check ``x-twitter-webhooks-signature`` over the raw body."""
        if not self._consumer_secret:
            raise VerificationError("X consumer secret is not configured", status_code=503)
        value = next((v for k, v in headers.items() if k.lower() == X_SIGNATURE_HEADER), None)
        if not value:
            raise VerificationError("missing x-twitter-webhooks-signature", status_code=401)
        if not verify_x_signature(self._consumer_secret, raw_body, value):
            raise VerificationError("x-twitter-webhooks-signature mismatch", status_code=403)

    def parse_webhook(
        self,
        raw_body: bytes,
        resolve_account: AccountResolver,
        received_at: datetime | None = None,
    ) -> ParsedEvent:
        """Turn one Account Activity body into messages, echoes and revocations
        (the parsing is in ``x_events``)."""
        return parse_account_activity(raw_body, resolve_account, self.app_id, received_at)

    # -- HTTP --------------------------------------------------------------------

    def _record_limits(self, account: AccountRef, bucket: str, response: httpx.Response) -> None:
        headers = response.headers
        if "x-rate-limit-limit" not in headers and "x-rate-limit-remaining" not in headers:
            return
        try:
            limit = int(headers.get("x-rate-limit-limit", ""))
        except ValueError:
            limit = None
        try:
            remaining = int(headers.get("x-rate-limit-remaining", ""))
        except ValueError:
            remaining = None
        self._limits[(account.id, bucket)] = RateLimitState(
            limit=limit,
            remaining=remaining,
            reset_at=_reset_time(headers.get("x-rate-limit-reset")),
        )

    def rate_limit(self, account: AccountRef, bucket: str | None = None) -> RateLimitState:
        """The last ``x-rate-limit-*`` headers seen for the account. Without ``bucket``
        (``"POST /2/tweets"``, ``"GET /2/users/:id/mentions"`` …) the most constrained
        window that has not reset yet."""
        if bucket is not None:
            return self._limits.get((account.id, bucket), RateLimitState())
        now = _utcnow()
        states = [
            state
            for (account_id, _), state in self._limits.items()
            if account_id == account.id and (state.reset_at is None or state.reset_at > now)
        ]
        if not states:
            return RateLimitState()
        return min(states, key=lambda s: s.remaining if s.remaining is not None else 1 << 30)

    async def _request(
        self,
        account: AccountRef,
        method: str,
        path: str,
        bucket: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Mapping[str, object] | None = None,
        upload: Upload | None = None,
    ) -> dict[str, Any]:
        tokens = self.tokens.current(account)
        if tokens is None:
            raise SendError(SendFailure.AUTH_REVOKED, "account has no access token")
        response = await self._call(tokens, method, path, params, json_body, upload)
        if response.status_code == 401 and can_refresh(account):
            # A 401 means X did not act on the request, so one retry cannot duplicate it.
            self._record_limits(account, bucket, response)
            tokens = await self.tokens.recover(account, tokens)
            response = await self._call(tokens, method, path, params, json_body, upload)
        self._record_limits(account, bucket, response)
        if response.status_code >= 400:
            raise classify_error(response)
        try:
            body = response.json()
        except ValueError:
            raise SendError(SendFailure.RETRYABLE, "X answered with a non-JSON body") from None
        return body if isinstance(body, dict) else {}

    async def _call(
        self,
        tokens: TokenPair,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        json_body: Mapping[str, object] | None,
        upload: Upload | None = None,
    ) -> httpx.Response:
        try:
            return await self._http().request(
                method,
                self._base_url + path,
                params=params,
                json=json_body,
                data=upload[0] if upload else None,
                files=upload[1] if upload else None,
                headers={"Authorization": f"Bearer {tokens.access_token}"},
            )
        except httpx.TimeoutException:
            raise SendError(SendFailure.RETRYABLE, "timed out talking to X") from None
        except httpx.TransportError as exc:
            raise SendError(SendFailure.RETRYABLE, f"network error: {type(exc).__name__}") from None

    async def identify(self, account: AccountRef) -> Identity:
        """Whose token this is: ``GET /2/users/me`` (refreshing an expired token once)."""
        body = await self._request(account, "GET", "/2/users/me", "GET /2/users/me")
        data = _obj(body.get("data"))
        return Identity(
            str(data.get("id") or ""), str(data.get("username") or ""), str(data.get("name") or "")
        )

    # -- sending -----------------------------------------------------------------

    async def send(self, account: AccountRef, request: OutboundRequest) -> SendResult:
        if request.kind is ReplyKind.PUBLIC_REPLY:
            if not request.in_reply_to_id:
                raise SendError(SendFailure.PERMANENT, "a public reply needs in_reply_to_id")
            tweet: dict[str, object] = {
                "text": request.body,
                "reply": {"in_reply_to_tweet_id": request.in_reply_to_id},
            }
            if request.images:
                # Uploaded again on a retry; the worker looks a possibly posted tweet up
                # before sending it again, so the tweet itself goes out once.
                tweet["media"] = {
                    "media_ids": [
                        await self._upload(account, image, "tweet_image")
                        for image in request.images
                    ]
                }
            body = await self._request(
                account, "POST", "/2/tweets", "POST /2/tweets", json_body=tweet
            )
            data = body.get("data") or {}
            tweet_id = data.get("id") if isinstance(data, dict) else None
            if not isinstance(tweet_id, str):
                raise SendError(SendFailure.RETRYABLE, "X's answer carries no tweet id")
            return SendResult(
                platform_message_id=tweet_id,
                conversation_id=request.conversation_id,
                sent_at=_utcnow(),
            )
        if request.kind is ReplyKind.DIRECT_MESSAGE:
            recipient = request.recipient_id or self._other_participant(account, request)
            if recipient:
                path = f"/2/dm_conversations/with/{recipient}/messages"
            elif request.conversation_id:
                path = f"/2/dm_conversations/{request.conversation_id}/messages"
            else:
                raise SendError(SendFailure.PERMANENT, "a DM needs recipient_id or conversation")
            dm: dict[str, object] = {"text": request.body}
            if request.images:
                dm["attachments"] = [
                    {"media_id": await self._upload(account, image, "dm_image")}
                    for image in request.images
                ]
            body = await self._request(
                account, "POST", path, "POST /2/dm_conversations", json_body=dm
            )
            data = body.get("data") or {}
            event_id = data.get("dm_event_id") if isinstance(data, dict) else None
            if not isinstance(event_id, str):
                raise SendError(SendFailure.RETRYABLE, "X's answer carries no dm_event_id")
            return SendResult(
                platform_message_id=event_id,
                conversation_id=str(data.get("dm_conversation_id") or request.conversation_id),
                sent_at=_utcnow(),
            )
        raise SendError(SendFailure.PERMANENT, f"X cannot send {request.kind.value}")

    async def _upload(self, account: AccountRef, image: OutboundImage, category: str) -> str:
        """``POST /2/media/upload`` (one request, multipart ``media``): the media id a
        post's ``media.media_ids`` or a DM's ``attachments`` names."""
        body = await self._request(
            account,
            "POST",
            "/2/media/upload",
            "POST /2/media/upload",
            upload=(
                {"media_category": category, "media_type": image.mime_type},
                {"media": (image.name, image.data, image.mime_type)},
            ),
        )
        media_id = _obj(body.get("data")).get("id")
        if not isinstance(media_id, str):
            raise SendError(SendFailure.RETRYABLE, "X's media upload answer carries no id")
        if image.alt:
            # The description is the media's metadata, set before the post names it.
            await self._request(
                account,
                "POST",
                "/2/media/metadata",
                "POST /2/media/metadata",
                json_body={"id": media_id, "metadata": {"alt_text": {"text": image.alt}}},
            )
        return media_id

    async def set_hidden(self, account: AccountRef, platform_message_id: str, hidden: bool) -> bool:
        """Hide (or unhide) a reply. X allows it only in conversations the brand's own
        tweet started; elsewhere it answers 403, raised as SendError(PERMANENT)."""
        body = await self._request(
            account,
            "PUT",
            f"/2/tweets/{platform_message_id}/hidden",
            "PUT /2/tweets/:id/hidden",
            json_body={"hidden": hidden},
        )
        data = _obj(body.get("data"))
        if data.get("hidden") is not hidden:
            raise SendError(SendFailure.RETRYABLE, "X's answer does not confirm the hidden state")
        return hidden

    @staticmethod
    def _other_participant(account: AccountRef, request: OutboundRequest) -> str | None:
        conversation = request.conversation_id or ""
        parts = conversation.split("-")
        if len(parts) == 2 and account.external_id in parts:
            other = parts[1] if parts[0] == account.external_id else parts[0]
            return other or None
        return None

    async def find_recent_post(
        self, account: AccountRef, text: str, in_reply_to: str | None = None
    ) -> str | None:
        """The id of the account's recent tweet with this text (and parent), if any.

        Used after a 403 duplicate: the first attempt may have been posted already.
        Text is compared after NFC, HTML-unescaping, whitespace folding and URL
        masking (X rewrites links to t.co).
        """
        body = await self._request(
            account,
            "GET",
            f"/2/users/{account.external_id}/tweets",
            "GET /2/users/:id/tweets",
            params={"max_results": 100, "tweet.fields": "created_at,referenced_tweets"},
        )
        wanted = _normalize_text(text)
        for tweet in body.get("data") or []:
            if not isinstance(tweet, dict) or not isinstance(tweet.get("id"), str):
                continue
            if _normalize_text(html.unescape(str(tweet.get("text", "")))) != wanted:
                continue
            if in_reply_to is not None:
                parents = [
                    ref.get("id")
                    for ref in tweet.get("referenced_tweets") or []
                    if isinstance(ref, dict) and ref.get("type") == "replied_to"
                ]
                if in_reply_to not in parents:
                    continue
            return str(tweet["id"])
        return None

    # -- polling -----------------------------------------------------------------

    def _since_id(self, cursor: str | None) -> str | None:
        # Snowflake ids are milliseconds (since X's epoch) shifted left by 22 bits, so
        # subtracting overlap_ms << 22 moves the id that far back in time.
        if not cursor or not self.poll_overlap_seconds or not cursor.isdigit():
            return cursor
        overlap = int(self.poll_overlap_seconds * 1000) << 22
        since = int(cursor) - overlap
        return str(since) if since > 0 else None

    async def poll(self, account: AccountRef, cursor: str | None) -> PollResult:
        """Mentions newer than the cursor, and with ``settings.poll_dms`` the DMs too,
        oldest first. Raises SendError with the same classes as ``send``.

        The cursor is the newest mention id; an account that polls DMs keeps both
        newest ids in one JSON object (``{"mentions": …, "dms": …}``)."""
        mentions_since, dms_since = parse_poll_cursor(cursor)
        messages, newest_mention = await self._poll_mentions(account, mentions_since)
        if not account.settings.get("poll_dms"):
            messages.sort(key=lambda m: _id_key(m.platform_message_id))
            return PollResult(messages=messages, cursor=newest_mention)
        dms, newest_dm = await self._poll_dms(account, dms_since)
        messages.extend(dms)
        messages.sort(key=lambda m: (m.created_at, _id_key(m.platform_message_id)))
        return PollResult(messages=messages, cursor=poll_cursor(newest_mention, newest_dm))

    async def _poll_mentions(
        self, account: AccountRef, cursor: str | None
    ) -> tuple[list[InboundMessage], str | None]:
        params: dict[str, str | int] = {"max_results": self.poll_page_size, **MENTION_FIELDS}
        since_id = self._since_id(cursor)
        if since_id:
            params["since_id"] = since_id
        messages: list[InboundMessage] = []
        newest = cursor
        for _ in range(MAX_POLL_PAGES):
            body = await self._request(
                account,
                "GET",
                f"/2/users/{account.external_id}/mentions",
                "GET /2/users/:id/mentions",
                params=params,
            )
            meta = _obj(body.get("meta"))
            users = included_users(body)
            for tweet in body.get("data") or []:
                message = parse_v2_tweet(tweet, account, users, included_media(body))
                newest = newest_id(newest, str(tweet.get("id")))
                if message is not None:
                    messages.append(message)
            newest = newest_id(newest, meta.get("newest_id"))
            next_token = meta.get("next_token")
            if not next_token:
                break
            params["pagination_token"] = str(next_token)
        return messages, newest

    async def _poll_dms(
        self, account: AccountRef, since: str | None
    ) -> tuple[list[InboundMessage], str | None]:
        """DM events newer than ``since``. ``GET /2/dm_events`` has no ``since_id`` and
        lists newest first, so pages are read until an event at or below ``since``.
        With the window spent (15 calls per 15 min) this poll skips DMs and keeps the
        cursor; the next poll after the reset catches up."""
        limits = self.rate_limit(account, DM_EVENTS_BUCKET)
        if limits.remaining == 0 and limits.reset_at is not None and limits.reset_at > _utcnow():
            return [], since
        params: dict[str, str | int] = {"max_results": self.poll_page_size, **DM_EVENT_FIELDS}
        messages: list[InboundMessage] = []
        newest = since
        for _ in range(MAX_DM_POLL_PAGES):
            try:
                body = await self._request(
                    account, "GET", "/2/dm_events", DM_EVENTS_BUCKET, params=params
                )
            except SendError as error:
                if error.failure is SendFailure.RATE_LIMITED:
                    break  # what was read so far is kept; the rest comes after the reset
                raise
            users = included_users(body)
            reached = False
            for event in body.get("data") or []:
                if not isinstance(event, dict) or not isinstance(event.get("id"), str):
                    raise PayloadError("DM event without a string id")
                if since and _id_key(event["id"]) <= _id_key(since):
                    reached = True
                    break
                newest = newest_id(newest, event["id"])
                message = parse_v2_dm(event, account, users, included_media(body))
                if message is not None:
                    messages.append(message)
            next_token = _obj(body.get("meta")).get("next_token")
            if reached or not next_token:
                break
            params["pagination_token"] = str(next_token)
        return messages, newest

    async def search_posts(
        self, account: AccountRef, kind: str, query: str, cursor: str | None
    ) -> SearchPage:
        """``GET /2/tweets/search/recent`` for posts newer than ``cursor`` (the newest
        id read so far: ``since_id``), following ``next_token`` for a few pages. The
        brand's own posts are left out. Raises SendError (429 with its reset time)."""
        params: dict[str, str | int] = {"query": query, "max_results": 100, **MENTION_FIELDS}
        if cursor:
            params["since_id"] = cursor
        page = SearchPage(cursor=cursor)
        for _ in range(MAX_SEARCH_PAGES):
            body = await self._request(
                account, "GET", "/2/tweets/search/recent", SEARCH_BUCKET, params=params
            )
            users = included_users(body)
            for tweet in body.get("data") or []:
                message = parse_v2_tweet(tweet, account, users, included_media(body))
                page.cursor = newest_id(page.cursor, str(tweet.get("id")))
                if message is not None:
                    author = users.get(message.author.external_user_id, {})
                    page.posts.append(FoundPost(message, {"tweet": tweet, "author": author}))
            next_token = _obj(body.get("meta")).get("next_token")
            if not next_token:
                break
            params["next_token"] = str(next_token)
        page.posts.sort(key=lambda p: _id_key(p.message.platform_message_id))
        return page


def _reset_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError):
        return None


def _problem_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        for key in ("detail", "title"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message") or errors[0].get("detail") or "")
    return f"HTTP {response.status_code}"


def classify_error(response: httpx.Response) -> SendError:
    """Map an X error response to a ``SendError`` (by status, and the detail for 403)."""
    status = response.status_code
    detail = _problem_detail(response)
    code = str(status)
    if status == 429:
        headers = response.headers
        retry_at = _reset_time(headers.get("x-rate-limit-reset"))
        if headers.get("x-user-limit-24hour-remaining") == "0":
            retry_at = _reset_time(headers.get("x-user-limit-24hour-reset")) or retry_at
        if headers.get("x-app-limit-24hour-remaining") == "0":
            retry_at = _reset_time(headers.get("x-app-limit-24hour-reset")) or retry_at
        if retry_at is None:
            retry_at = _utcnow() + timedelta(minutes=15)
        return SendError(SendFailure.RATE_LIMITED, detail, code=code, retry_at=retry_at)
    if status == 401:
        return SendError(SendFailure.AUTH_REVOKED, detail, code=code)
    if status == 403 and DUPLICATE_DETAIL in detail.lower():
        return SendError(SendFailure.DUPLICATE, detail, code=code)
    if status >= 500:
        return SendError(SendFailure.RETRYABLE, detail, code=code)
    return SendError(SendFailure.PERMANENT, detail, code=code)
