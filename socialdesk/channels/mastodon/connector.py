"""Mastodon: mention polling, public replies and direct messages over the REST API.

Wire format: ../shared/specs/social-platform-apis.md §3. Polling reads
``/api/v1/notifications`` with ``min_id`` and follows ``Link: rel="prev"`` so that a
burst larger than one page is read oldest-first without a gap. Notification ids are
snowflakes: they sort numerically, not as strings of different lengths.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx

from socialdesk.channels.base import (
    AccountRef,
    Identity,
    LazyHttpClient,
    OutboundImage,
    OutboundRequest,
    PollResult,
    RateLimitState,
    ReplyKind,
    SendError,
    SendFailure,
    SendResult,
)
from socialdesk.channels.mastodon.attachments import status_attachments
from socialdesk.channels.search import MAX_SEARCH_PAGES, FoundPost, SearchPage
from socialdesk.domain.enums import Direction, Platform, Visibility
from socialdesk.domain.messages import Author, InboundMessage
from socialdesk.domain.timestamps import iso_or_none

log = logging.getLogger(__name__)

NOTIFICATIONS_PATH = "/api/v1/notifications"
STATUSES_PATH = "/api/v1/statuses"
MEDIA_PATH = "/api/v2/media"
PAGE_LIMIT = 40
_CACHE_SIZE = 5000
_LINK_RE = re.compile(r"<([^>]*)>\s*;\s*rel=\"?([\w ]+)\"?")
_LEADING_MENTION_RE = re.compile(r"@(\w+)(?:@([\w-]+(?:\.[\w-]+)+))?[,:]?(?=\s|$)")


# Notification kinds that are a status to answer (Mastodon 4.5 adds ``quote``); the
# poll asks for these only. The rest are read by no one: docs/channels.md.
MESSAGE_TYPES = ("mention", "quote")
IGNORED_TYPES = (
    "favourite",
    "reblog",
    "follow",
    "follow_request",
    "poll",
    "status",
    "update",
    "quoted_update",
    "admin.sign_up",
    "admin.report",
    "severed_relationships",
    "moderation_warning",
)


def id_key(value: str) -> tuple[int, str]:
    """Sort key for snowflake ids: numeric order without converting huge strings."""
    digits = value.lstrip("0") or "0"
    return (len(digits), digits)


def _max_id(*ids: str | None) -> str | None:
    present = [i for i in ids if i]
    return max(present, key=id_key) if present else None


def dm_conversation_id(user_a: str, user_b: str) -> str:
    """One DM conversation per pair of accounts: both ids, lower first, joined by ``-``."""
    low, high = sorted((user_a, user_b), key=id_key)
    return f"{low}-{high}"


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def _ends_with(self, suffix: str) -> bool:
        return "".join(self.parts[-2:]).endswith(suffix)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts and not self._ends_with("\n\n"):
            self.parts.append("\n" if self._ends_with("\n") else "\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    """Mastodon's status HTML → plain text: paragraphs become blank lines, ``<br>``
    newlines; links keep their full URL (the "invisible" spans hold its hidden parts)."""
    parser = _TextExtractor()
    parser.feed(content)
    parser.close()
    lines = "".join(parser.parts).replace("\r\n", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def strip_leading_mentions(text: str, names: set[str]) -> str:
    """Drop the brand's own mention(s) from the run of mentions that opens a post
    (``@brand @friend hi`` → ``@friend hi``). Text that would become empty is kept."""
    wanted = {n.lower().lstrip("@") for n in names if n}
    pos = 0
    kept: list[str] = []
    while True:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        match = _LEADING_MENTION_RE.match(text, pos)
        if match is None:
            break
        username = match.group(1).lower()
        full = f"{username}@{match.group(2).lower()}" if match.group(2) else username
        if full not in wanted and not (match.group(2) is None and username in wanted):
            kept.append(match.group(0))
        pos = match.end()
    rest = text[pos:].lstrip()
    result = " ".join([*kept, rest]) if rest else " ".join(kept)
    return result.strip() or text.strip()


def parse_link_header(value: str | None) -> dict[str, str]:
    """``<url>; rel="next", <url>; rel="prev"`` → ``{"next": url, "prev": url}``."""
    links: dict[str, str] = {}
    for url, rels in _LINK_RE.findall(value or ""):
        for rel in rels.split():
            links.setdefault(rel, url)
    return links


def parse_reset(value: str | None) -> datetime | None:
    """``X-RateLimit-Reset``: ISO-8601 with microseconds (an epoch is accepted too)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_time(value: object) -> datetime:
    """A status time; now when it is missing, not a time, or out of range."""
    return iso_or_none(value) or datetime.now(UTC)


def classify_error(response: httpx.Response) -> SendError:
    """Map an error answer to a ``SendError`` by status code, never by message text."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    message = ""
    if isinstance(body, dict):
        message = str(body.get("error") or "")
        if body.get("error_description"):
            message = f"{message}: {body['error_description']}"
    message = message or response.reason_phrase or f"HTTP {status}"
    code = str(status)
    if status == 401:
        return SendError(SendFailure.AUTH_REVOKED, message, code=code)
    if status == 429:
        retry_at = parse_reset(response.headers.get("x-ratelimit-reset"))
        return SendError(SendFailure.RATE_LIMITED, message, code=code, retry_at=retry_at)
    if status >= 500 or status == 408:
        return SendError(SendFailure.RETRYABLE, message, code=code)
    return SendError(SendFailure.PERMANENT, message, code=code)


class MastodonConnector(LazyHttpClient):
    """Talks to one Mastodon instance at ``base_url`` with the brand's bearer token
    (``account.secrets["access_token"]``).

    ``mention_author_in_replies``: Mastodon notifies only accounts mentioned in the
    text, so public replies get ``@acct`` prepended too when missing (a direct message
    always does: without it nobody receives it).
    """

    platform = Platform.MASTODON

    def __init__(
        self,
        base_url: str,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        timeout: float = 10.0,
        page_limit: int = PAGE_LIMIT,
        max_pages: int = 50,
        mention_author_in_replies: bool = True,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._transport = transport
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self.page_limit = min(max(page_limit, 1), 80)
        self.max_pages = max_pages
        self.mention_author_in_replies = mention_author_in_replies
        self._limits: dict[int, RateLimitState] = {}
        # status id / account id → acct, learned while polling, to address replies.
        self._acct_by_status: OrderedDict[str, str] = OrderedDict()
        self._acct_by_account: OrderedDict[str, str] = OrderedDict()

    # -- lifecycle ---------------------------------------------------------------------

    # -- HTTP --------------------------------------------------------------------------

    def rate_limit(self, account: AccountRef) -> RateLimitState:
        """The ``X-RateLimit-*`` headers last seen for this account's token."""
        return self._limits.get(account.id, RateLimitState())

    def _record_limits(self, account: AccountRef, response: httpx.Response) -> None:
        headers = response.headers
        if "x-ratelimit-limit" not in headers and "x-ratelimit-remaining" not in headers:
            return

        def number(name: str) -> int | None:
            try:
                return int(headers.get(name, ""))
            except ValueError:
                return None

        self._limits[account.id] = RateLimitState(
            limit=number("x-ratelimit-limit"),
            remaining=number("x-ratelimit-remaining"),
            reset_at=parse_reset(headers.get("x-ratelimit-reset")),
        )

    async def _request(
        self,
        account: AccountRef,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        json_body: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        token = account.secrets.get("access_token")
        if not token:
            raise SendError(SendFailure.AUTH_REVOKED, "account has no access token")
        try:
            response = await self._http().request(
                method,
                self._base_url + path,
                params=list(params or []),
                json=json_body,
                files=files,
                data=data,
                headers={"Authorization": f"Bearer {token}", **(headers or {})},
            )
        except httpx.TimeoutException:
            raise SendError(SendFailure.RETRYABLE, "timed out talking to Mastodon") from None
        except httpx.TransportError as exc:
            raise SendError(SendFailure.RETRYABLE, f"network error: {type(exc).__name__}") from None
        self._record_limits(account, response)
        if response.status_code >= 400:
            error = classify_error(response)
            log.warning(
                "mastodon %s %s for account %s: %s %s",
                method,
                path,
                account.id,
                response.status_code,
                error.reason,
            )
            raise error
        return response

    async def identify(self, account: AccountRef) -> Identity:
        """``GET /api/v1/accounts/verify_credentials``: the token's own account."""
        response = await self._request(account, "GET", "/api/v1/accounts/verify_credentials")
        body = self._json(response)
        if not isinstance(body, dict):
            raise SendError(SendFailure.RETRYABLE, "Mastodon answered without an account")
        return Identity(
            str(body.get("id") or ""),
            str(body.get("acct") or body.get("username") or ""),
            str(body.get("display_name") or ""),
        )

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise SendError(SendFailure.RETRYABLE, "Mastodon answered with non-JSON") from None

    def _remember(self, cache: OrderedDict[str, str], key: str, acct: str) -> None:
        cache[key] = acct
        cache.move_to_end(key)
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)

    # -- polling -----------------------------------------------------------------------

    async def poll(self, account: AccountRef, cursor: str | None) -> PollResult:
        """Mentions newer than ``cursor`` (a notification id), oldest first.

        Without a cursor only the newest page is read (no history backfill). The new
        cursor is the highest notification id seen; when ``max_pages`` stops the walk
        early, the next poll continues from there, so nothing is skipped."""
        params: list[tuple[str, str]] = [("types[]", kind) for kind in MESSAGE_TYPES]
        params.append(("limit", str(self.page_limit)))
        if cursor:
            params.append(("min_id", cursor))
        found: dict[str, dict[str, Any]] = {}
        for _ in range(self.max_pages):
            response = await self._request(account, "GET", NOTIFICATIONS_PATH, params=params)
            page = self._json(response)
            if not isinstance(page, list) or not page:
                break
            for item in page:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    found.setdefault(item["id"], item)
            prev_url = parse_link_header(response.headers.get("link")).get("prev")
            if prev_url is None:
                break
            next_params = parse_qsl(urlsplit(prev_url).query, keep_blank_values=True)
            next_min = dict(next_params).get("min_id")
            current_min = dict(params).get("min_id")
            if not next_min or (current_min and id_key(next_min) <= id_key(current_min)):
                break
            params = next_params
        else:
            log.info(
                "mastodon poll for account %s stopped after %d pages", account.id, self.max_pages
            )
        ids = sorted((i for i in found if cursor is None or id_key(i) > id_key(cursor)), key=id_key)
        messages = []
        for notification_id in ids:
            message = self.parse_notification(account, found[notification_id])
            if message is not None:
                messages.append(message)
        # An empty first poll still yields a cursor: "0" reads everything from now on.
        return PollResult(messages=messages, cursor=_max_id(cursor, *ids) or "0")

    def parse_notification(
        self, account: AccountRef, notification: Mapping[str, Any]
    ) -> InboundMessage | None:
        """One ``mention`` (a reply or a direct message is one too) or ``quote``
        notification → an ``InboundMessage``; None for the kinds the desk leaves alone
        (``IGNORED_TYPES``: favourites, boosts, follows, polls, edits…)."""
        status = notification.get("status")
        if notification.get("type") not in MESSAGE_TYPES or not isinstance(status, dict):
            return None
        author_json = status.get("account") or notification.get("account") or {}
        if not isinstance(author_json, dict) or not isinstance(status.get("id"), str):
            return None
        author_id = str(author_json.get("id") or "")
        acct = str(author_json.get("acct") or author_json.get("username") or "")
        followers = author_json.get("followers_count")
        author = Author(
            external_user_id=author_id,
            handle=acct or None,
            display_name=str(author_json.get("display_name") or "") or None,
            follower_count=followers if isinstance(followers, int) else None,
        )
        names = {account.handle, account.handle.lstrip("@").split("@")[0]}
        mentions = status.get("mentions")
        for mention in mentions if isinstance(mentions, list) else []:
            if isinstance(mention, dict) and str(mention.get("id")) == account.external_id:
                names.update({str(mention.get("username") or ""), str(mention.get("acct") or "")})
        raw_text = html_to_text(str(status.get("content") or ""))
        direct = status.get("visibility") == "direct"
        own = bool(account.external_id) and author_id == account.external_id
        if acct and author_id:
            self._remember(self._acct_by_status, status["id"], acct)
            self._remember(self._acct_by_account, author_id, acct)
        extra: dict[str, object] = {
            "notification_id": notification.get("id"),
            "mastodon_visibility": status.get("visibility"),
            "url": status.get("url"),
        }
        if notification.get("type") == "quote":
            extra["notification_type"] = "quote"
        if status.get("spoiler_text"):
            extra["spoiler_text"] = status["spoiler_text"]
        if status.get("language"):
            extra["language"] = status["language"]
        return InboundMessage(
            channel_account_id=account.id,
            platform=Platform.MASTODON,
            platform_message_id=status["id"],
            author=author,
            body=strip_leading_mentions(raw_text, names),
            created_at=_parse_time(status.get("created_at")),
            direction=Direction.OUTBOUND if own else Direction.INBOUND,
            visibility=Visibility.PRIVATE if direct else Visibility.PUBLIC,
            reply_to_id=status.get("in_reply_to_id") or None,
            conversation_id=(
                dm_conversation_id(account.external_id or author_id, author_id) if direct else None
            ),
            extra=extra,
            attachments=status_attachments(status),
        )

    # -- listening ---------------------------------------------------------------------

    async def search_posts(
        self, account: AccountRef, kind: str, query: str, cursor: str | None
    ) -> SearchPage:
        """Public statuses newer than ``cursor`` (a status id, as ``min_id``): a hashtag
        timeline (``kind`` ``tag``) or ``/api/v2/search`` (``search``), oldest first.
        Without a cursor only the newest page is read (no backfill)."""
        if kind == "tag":
            path = f"/api/v1/timelines/tag/{quote(query, safe='')}"
            base: list[tuple[str, str]] = [("limit", "40")]
        else:
            path = "/api/v2/search"
            base = [("q", query), ("type", "statuses"), ("resolve", "false"), ("limit", "40")]
        found: dict[str, dict[str, Any]] = {}
        newest = cursor
        for _ in range(MAX_SEARCH_PAGES):
            params = [*base, ("min_id", newest)] if newest else base
            body = self._json(await self._request(account, "GET", path, params=params))
            statuses = body.get("statuses") if isinstance(body, dict) else body
            items = [
                s for s in statuses or [] if isinstance(s, dict) and isinstance(s.get("id"), str)
            ]
            fresh = [s for s in items if newest is None or id_key(s["id"]) > id_key(newest)]
            for status in fresh:
                found.setdefault(status["id"], status)
            if not fresh or cursor is None:
                break
            newest = _max_id(newest, *(s["id"] for s in fresh))
        posts = []
        for status_id in sorted(found, key=id_key):
            status = found[status_id]
            message = self.parse_notification(account, {"type": "mention", "status": status})
            if message is not None and message.direction is Direction.INBOUND:
                posts.append(FoundPost(message, status))
        return SearchPage(posts, _max_id(cursor, *found) or cursor)

    # -- sending -----------------------------------------------------------------------

    async def send(self, account: AccountRef, request: OutboundRequest) -> SendResult:
        """``POST /api/v1/statuses`` with ``Idempotency-Key``; retries with the same key
        return the status created the first time instead of posting again."""
        if request.kind is ReplyKind.EMAIL:
            raise SendError(SendFailure.PERMANENT, "Mastodon cannot send e-mail")
        direct = _is_direct(request)
        if not direct and not request.in_reply_to_id:
            raise SendError(SendFailure.PERMANENT, "a public reply needs in_reply_to_id")
        text = request.body
        # A blank body is left blank: the instance rejects it with its own message.
        if text.strip() and (direct or self.mention_author_in_replies):
            acct = await self._recipient_acct(account, request)
            if acct:
                text = with_mention(text, acct)
            elif direct:
                raise SendError(SendFailure.PERMANENT, "cannot tell whom the message is for")
        payload: dict[str, object] = {
            "status": text,
            "visibility": "direct" if direct else "public",
        }
        if request.in_reply_to_id:
            payload["in_reply_to_id"] = request.in_reply_to_id
        if request.images:
            # Uploaded again on a retry (new media ids); the status itself is posted once,
            # by its Idempotency-Key.
            payload["media_ids"] = [await self._upload(account, image) for image in request.images]
        response = await self._request(
            account,
            "POST",
            STATUSES_PATH,
            json_body=payload,
            headers={"Idempotency-Key": request.idempotency_key},
        )
        body = self._json(response)
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise SendError(SendFailure.RETRYABLE, "Mastodon returned no status id")
        conversation_id = request.conversation_id
        recipient = (body.get("mentions") or [{}])[0] if direct else {}
        if direct and conversation_id is None and isinstance(recipient, dict) and recipient:
            conversation_id = dm_conversation_id(
                account.external_id or str(recipient.get("id")), str(recipient.get("id"))
            )
        return SendResult(
            platform_message_id=body["id"],
            conversation_id=conversation_id,
            sent_at=_parse_time(body.get("created_at")),
        )

    async def _upload(self, account: AccountRef, image: OutboundImage) -> str:
        """``POST /api/v2/media`` (multipart ``file``): the media attachment's id. An image
        is processed at once (200); a 202 means the id is usable once processed, which
        the status call waits for on the instance's side."""
        response = await self._request(
            account,
            "POST",
            MEDIA_PATH,
            files={"file": (image.name, image.data, image.mime_type)},
            # The image's alt text is the media attachment's description, a form field.
            data={"description": image.alt} if image.alt else None,
        )
        body = self._json(response)
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise SendError(SendFailure.RETRYABLE, "Mastodon returned no media id")
        return body["id"]

    async def mention_prefix(self, account: AccountRef, request: OutboundRequest) -> str:
        """The ``@acct `` that ``send`` will put before the text ("" if none), so the
        reply can be measured and split as it will be posted, mention included."""
        if not request.body.strip() or not (_is_direct(request) or self.mention_author_in_replies):
            return ""
        acct = await self._recipient_acct(account, request)
        if not acct or with_mention(request.body, acct) == request.body:
            return ""
        return f"@{acct.lstrip('@')} "

    async def _recipient_acct(self, account: AccountRef, request: OutboundRequest) -> str | None:
        """The ``user@host`` to mention: a handle given as recipient, the author of the
        status answered, or the recipient account looked up by id."""
        recipient = (request.recipient_id or "").lstrip("@")
        if recipient and not recipient.isdigit():
            return recipient
        parent = request.in_reply_to_id
        if parent:
            acct = self._acct_by_status.get(parent)
            if acct is None:
                status = self._json(
                    await self._request(account, "GET", f"{STATUSES_PATH}/{parent}")
                )
                author = status.get("account") if isinstance(status, dict) else None
                if isinstance(author, dict) and str(author.get("id")) != account.external_id:
                    acct = str(author.get("acct") or "") or None
            if acct:
                return acct
        if recipient:
            acct = self._acct_by_account.get(recipient)
            if acct is None:
                found = self._json(
                    await self._request(account, "GET", f"/api/v1/accounts/{recipient}")
                )
                acct = str(found.get("acct") or "") if isinstance(found, dict) else ""
            return acct or None
        return None

    async def delete(self, account: AccountRef, status_id: str) -> None:
        """Delete one of the brand's statuses (Mastodon has no way to hide replies)."""
        await self._request(account, "DELETE", f"{STATUSES_PATH}/{status_id}")


def _is_direct(request: OutboundRequest) -> bool:
    return request.kind is ReplyKind.DIRECT_MESSAGE or request.visibility is Visibility.PRIVATE


def with_mention(text: str, acct: str) -> str:
    """Prepend ``@acct`` unless the text already mentions that account."""
    acct = acct.lstrip("@")
    username, _, host = acct.partition("@")
    forms = [re.escape(acct)] if host else [re.escape(username)]
    pattern = rf"(?<![\w@])@(?:{'|'.join(forms)})(?![\w@-]|\.\w)"
    if re.search(pattern, text, re.IGNORECASE):
        return text
    return f"@{acct} {text}"
