"""Meta: Facebook Page comments, Messenger, Instagram comments and DMs (Graph API).

Wire format: ../shared/specs/social-platform-apis.md §2. Errors are classified by
``error.code`` / ``error_subcode`` only, never by message text.

Accounts: a Facebook Page is ``Platform.FACEBOOK`` (or ``MESSENGER``; either is found
for both feed and messaging events), an Instagram professional account is
``Platform.INSTAGRAM``. ``external_id`` is the Page id or the IG account id. An IG
account whose DMs go through its Page's token may name the Page in
``settings["page_id"]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from socialdesk.channels.base import (
    AccountRef,
    AccountResolver,
    LazyHttpClient,
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
from socialdesk.channels.signatures import (
    META_SIGNATURE_HEADER,
    appsecret_proof,
    constant_time_equals,
    is_token_shaped,
    verify_meta_signature,
)
from socialdesk.domain.enums import Platform, Visibility
from socialdesk.domain.messages import Author, InboundMessage, MessageChange

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"

AUTH_CODES = frozenset({190, 102, 200, 230})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
TRANSIENT_CODES = frozenset({1, 2})
OUTSIDE_WINDOW = (10, 2018278)
# Feed verbs we act on, and the change each one is to a comment we may already have.
FEED_VERBS: dict[str, MessageChange | None] = {
    "add": None,
    "edited": MessageChange.EDITED,
    "remove": MessageChange.REMOVED,
}


def _obj(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _timestamp(value: object) -> datetime:
    """Meta sends seconds in some places and milliseconds in others."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PayloadError("timestamp is missing")
    if isinstance(value, str):
        if not value.strip().lstrip("-").isdigit():
            try:
                return datetime.fromisoformat(value.replace("+0000", "+00:00")).astimezone(UTC)
            except ValueError:
                raise PayloadError(f"bad timestamp {value!r}") from None
        value = int(value)
    seconds = value / 1000 if value > 100_000_000_000 else value
    return datetime.fromtimestamp(seconds, tz=UTC)


def _dict(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} is not an object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(f"{what} is not an array")
    return value


def _str_id(value: object, what: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{what} is missing")
    return value


def dm_conversation_id(owner_id: str, customer_id: str) -> str:
    """A DM thread: the customer's page-scoped id, scoped again by our Page/IG id."""
    return f"{owner_id}:{customer_id}"


class MetaConnector(LazyHttpClient):
    """Talks to the Graph API through ``base_url``; transport or client injectable.

    With ``app_secret`` set, every call carries ``appsecret_proof``.
    """

    platform = Platform.FACEBOOK
    platforms = (Platform.FACEBOOK, Platform.MESSENGER, Platform.INSTAGRAM)

    def __init__(
        self,
        app_secret: str | None = None,
        verify_token: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        transport: httpx.AsyncBaseTransport | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: float = 20.0,
    ) -> None:
        self._app_secret = app_secret or ""
        self._verify_token = verify_token or ""
        self._base_url = base_url.rstrip("/")
        self.api_version = api_version
        self._transport = transport
        self._client = client
        self._owns_client = client is None
        self._timeout = timeout
        self._limits: dict[int, RateLimitState] = {}

    # -- webhooks ----------------------------------------------------------------

    def hub_challenge(self, params: Mapping[str, str], verify_token: str | None = None) -> str:
        """The body answering Meta's verification GET; VerificationError (403) otherwise.

        Accepts ``hub.mode`` and PHP-style ``hub_mode`` names.
        """
        expected = verify_token if verify_token is not None else self._verify_token

        def param(name: str) -> str:
            return params.get(f"hub.{name}") or params.get(f"hub_{name}") or ""

        if param("mode") != "subscribe":
            raise VerificationError("hub.mode is not subscribe", status_code=403)
        if not expected or not constant_time_equals(param("verify_token"), expected):
            raise VerificationError("hub.verify_token mismatch", status_code=403)
        challenge = param("challenge")
        if not is_token_shaped(challenge):
            raise VerificationError("hub.challenge is not token-shaped", status_code=403)
        return challenge

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        """Check ``X-Hub-Signature-256`` over the raw body."""
        if not self._app_secret:
            raise VerificationError("Meta app secret is not configured", status_code=503)
        value = next((v for k, v in headers.items() if k.lower() == META_SIGNATURE_HEADER), None)
        if not value:
            raise VerificationError("missing X-Hub-Signature-256", status_code=401)
        if not verify_meta_signature(self._app_secret, raw_body, value):
            raise VerificationError("X-Hub-Signature-256 mismatch", status_code=403)

    def parse_webhook(self, raw_body: bytes, resolve_account: AccountResolver) -> ParsedEvent:
        """Every entry of a ``page`` or ``instagram`` body, routed by ``entry[].id``."""
        try:
            payload = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PayloadError(f"body is not JSON: {exc}") from None
        payload = _dict(payload, "body")
        kind = payload.get("object")
        if not isinstance(kind, str):
            raise PayloadError("object is missing")
        entries = _list(payload.get("entry"), "entry")
        if kind not in ("page", "instagram"):
            return ParsedEvent(messages=[])
        messages: list[InboundMessage] = []
        echoes: list[str] = []
        for entry in entries:
            entry = _dict(entry, "entry")
            owner_id = _str_id(entry.get("id"), "entry.id")
            parser = _EntryParser(kind, owner_id, entry, resolve_account)
            parser.run()
            messages.extend(parser.messages)
            echoes.extend(parser.echoes)
        return ParsedEvent(messages=messages, echoed_message_ids=echoes)

    # -- HTTP --------------------------------------------------------------------

    def _record_usage(self, account: AccountRef, response: httpx.Response) -> None:
        percent = 0
        reset_at: datetime | None = None
        seen = False
        app_usage = _json_header(response.headers.get("x-app-usage"))
        if isinstance(app_usage, dict):
            seen = True
            percent = max(
                [int(v) for v in app_usage.values() if isinstance(v, int | float)], default=0
            )
        buc = _json_header(response.headers.get("x-business-use-case-usage"))
        if isinstance(buc, dict):
            for usages in buc.values():
                for usage in usages if isinstance(usages, list) else []:
                    if not isinstance(usage, dict):
                        continue
                    seen = True
                    for key in ("call_count", "total_cputime", "total_time"):
                        if isinstance(usage.get(key), int | float):
                            percent = max(percent, int(usage[key]))
                    minutes = usage.get("estimated_time_to_regain_access")
                    if isinstance(minutes, int | float) and minutes > 0:
                        reset_at = _utcnow() + timedelta(minutes=minutes)
        if seen:
            self._limits[account.id] = RateLimitState(
                limit=100, remaining=max(0, 100 - percent), reset_at=reset_at
            )

    def rate_limit(self, account: AccountRef) -> RateLimitState:
        """Usage from the last ``X-App-Usage`` / ``X-Business-Use-Case-Usage`` headers,
        as a percentage: ``limit`` 100, ``remaining`` = 100 minus the highest usage."""
        return self._limits.get(account.id, RateLimitState())

    async def _post(
        self,
        account: AccountRef,
        path: str,
        *,
        form: Mapping[str, str] | None = None,
        json_body: Mapping[str, object] | None = None,
    ) -> dict[str, Any]:
        token = account.secrets.get("access_token")
        if not token:
            raise SendError(SendFailure.AUTH_REVOKED, "account has no access token")
        params = (
            {"appsecret_proof": appsecret_proof(self._app_secret, token)}
            if (self._app_secret)
            else {}
        )
        try:
            response = await self._http().post(
                f"{self._base_url}/{self.api_version}{path}",
                params=params,
                data=form,
                json=json_body,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TimeoutException:
            raise SendError(SendFailure.RETRYABLE, "timed out talking to Meta") from None
        except httpx.TransportError as exc:
            raise SendError(SendFailure.RETRYABLE, f"network error: {type(exc).__name__}") from None
        self._record_usage(account, response)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or (isinstance(body, dict) and "error" in body):
            raise classify_error(response.status_code, body, response.headers)
        if not isinstance(body, dict):
            raise SendError(SendFailure.RETRYABLE, "Meta answered with a non-JSON body")
        return body

    # -- sending -----------------------------------------------------------------

    async def send(self, account: AccountRef, request: OutboundRequest) -> SendResult:
        if request.kind is ReplyKind.PUBLIC_REPLY:
            if not request.in_reply_to_id:
                raise SendError(SendFailure.PERMANENT, "a comment reply needs in_reply_to_id")
            edge = "replies" if account.platform is Platform.INSTAGRAM else "comments"
            body = await self._post(
                account, f"/{request.in_reply_to_id}/{edge}", form={"message": request.body}
            )
            comment_id = body.get("id")
            if not isinstance(comment_id, str):
                raise SendError(SendFailure.RETRYABLE, "Meta's answer carries no id")
            return SendResult(
                platform_message_id=comment_id,
                conversation_id=request.conversation_id,
                sent_at=_utcnow(),
            )
        if request.kind is ReplyKind.DIRECT_MESSAGE:
            recipient = request.recipient_id
            if not recipient and request.conversation_id and ":" in request.conversation_id:
                recipient = request.conversation_id.rsplit(":", 1)[1]
            if not recipient:
                raise SendError(SendFailure.PERMANENT, "a DM needs recipient_id or conversation")
            message: dict[str, object] = {
                "recipient": {"id": recipient},
                "message": {"text": request.body},
            }
            if request.human_agent_tag:
                message["messaging_type"] = "MESSAGE_TAG"
                message["tag"] = "HUMAN_AGENT"
            else:
                message["messaging_type"] = "RESPONSE"
            sender = str(account.settings.get("page_id") or account.external_id)
            body = await self._post(account, f"/{sender}/messages", json_body=message)
            mid = body.get("message_id")
            if not isinstance(mid, str):
                raise SendError(SendFailure.RETRYABLE, "Meta's answer carries no message_id")
            return SendResult(
                platform_message_id=mid,
                conversation_id=request.conversation_id
                or dm_conversation_id(account.external_id, recipient),
                sent_at=_utcnow(),
            )
        raise SendError(SendFailure.PERMANENT, f"Meta cannot send {request.kind.value}")

    async def set_hidden(
        self, account: AccountRef, platform_message_id: str, hidden: bool, platform: Platform
    ) -> bool:
        """Hide (or unhide) a Facebook or Instagram comment on the account's page or
        media: ``POST /{comment-id}`` with ``is_hidden`` (Facebook) or ``hide`` (IG)."""
        key = "hide" if platform is Platform.INSTAGRAM else "is_hidden"
        body = await self._post(
            account, f"/{platform_message_id}", form={key: "true" if hidden else "false"}
        )
        if body.get("success") is not True:
            raise SendError(SendFailure.RETRYABLE, "Meta's answer does not confirm the change")
        return hidden

    async def poll(self, account: AccountRef, cursor: str | None) -> PollResult:
        """Meta delivers by webhook only; polling yields nothing."""
        return PollResult(messages=(), cursor=cursor)


class _EntryParser:
    """Messages and echoes of one ``entry`` element."""

    def __init__(
        self,
        kind: str,
        owner_id: str,
        entry: dict[str, Any],
        resolve_account: AccountResolver,
    ) -> None:
        self.kind = kind
        self.owner_id = owner_id
        self.entry = entry
        self.resolve = resolve_account
        self.messages: list[InboundMessage] = []
        self.echoes: list[str] = []

    def _account(self, *platforms: Platform) -> AccountRef | None:
        for platform in platforms:
            account = self.resolve(platform, self.owner_id)
            if account is not None:
                return account
        return None

    def run(self) -> None:
        for change in _list(self.entry.get("changes", []), "entry.changes"):
            change = _dict(change, "change")
            value = change.get("value")
            field = change.get("field")
            if self.kind == "page" and field == "feed":
                self._feed(_dict(value, "feed value"))
            elif self.kind == "instagram" and field == "comments":
                self._ig_comment(_dict(value, "comments value"))
            elif field == "messages" and isinstance(value, dict) and "sender" in value:
                self._messaging(value)  # newer Instagram-Login deliveries
        for event in _list(self.entry.get("messaging", []), "entry.messaging"):
            self._messaging(_dict(event, "messaging event"))

    def _feed(self, value: dict[str, Any]) -> None:
        verb = value.get("verb")
        if value.get("item") != "comment" or verb not in FEED_VERBS:
            return
        comment_id = _str_id(value.get("comment_id"), "comment_id")
        # A removal may come without ``from``; the stored comment already names its author.
        if verb == "remove":
            author = _obj(value.get("from"))
            author_id = str(author.get("id") or "")
        else:
            author = _dict(value.get("from"), "comment from")
            author_id = _str_id(author.get("id"), "comment from.id")
        if author_id == self.owner_id:
            if verb == "add":
                self.echoes.append(comment_id)
            return  # the Page's own comment edited or removed: nothing to record
        account = self._account(Platform.FACEBOOK, Platform.MESSENGER)
        if account is None:
            return
        post_id = value.get("post_id")
        parent_id = value.get("parent_id") or post_id
        references = (str(post_id),) if post_id and parent_id != post_id else ()
        created = value.get("created_time", self.entry.get("time"))
        change = FEED_VERBS[verb]
        self.messages.append(
            InboundMessage(
                channel_account_id=account.id,
                platform=Platform.FACEBOOK,
                platform_message_id=comment_id,
                author=Author(external_user_id=author_id, display_name=author.get("name")),
                body=str(value.get("message") or ""),
                created_at=_timestamp(created),
                visibility=Visibility.PUBLIC,
                reply_to_id=str(parent_id) if parent_id else None,
                references=references,
                extra={"verb": verb, "post_id": post_id, "page_id": self.owner_id},
                change=change,
                # Meta gives no edit time; the entry's time is when the change happened.
                changed_at=_timestamp(self.entry.get("time", created)) if change else None,
            )
        )

    def _ig_comment(self, value: dict[str, Any]) -> None:
        comment_id = _str_id(value.get("id"), "comment id")
        author = _dict(value.get("from"), "comment from")
        author_id = _str_id(author.get("id"), "comment from.id")
        if author_id == self.owner_id:
            self.echoes.append(comment_id)
            return
        account = self._account(Platform.INSTAGRAM)
        if account is None:
            return
        media = _obj(value.get("media"))
        media_id = media.get("id")
        parent_id = value.get("parent_id") or media_id
        references = (str(media_id),) if media_id and parent_id != media_id else ()
        self.messages.append(
            InboundMessage(
                channel_account_id=account.id,
                platform=Platform.INSTAGRAM,
                platform_message_id=comment_id,
                author=Author(external_user_id=author_id, handle=author.get("username")),
                body=str(value.get("text") or ""),
                created_at=_timestamp(self.entry.get("time")),
                visibility=Visibility.PUBLIC,
                reply_to_id=str(parent_id) if parent_id else None,
                references=references,
                extra={
                    "media_id": media_id,
                    "media_product_type": media.get("media_product_type"),
                    "ad_id": media.get("ad_id"),
                },
            )
        )

    def _messaging(self, event: dict[str, Any]) -> None:
        sender = _str_id(_dict(event.get("sender"), "sender").get("id"), "sender.id")
        recipient = _str_id(_dict(event.get("recipient"), "recipient").get("id"), "recipient.id")
        message = event.get("message")
        postback = event.get("postback")
        if isinstance(message, dict):
            mid = _str_id(message.get("mid"), "message.mid")
            if message.get("is_echo") or sender == self.owner_id:
                self.echoes.append(mid)
                return
            body = message.get("text") or ""
            reply_to = message.get("reply_to")
            reply_to_id = reply_to.get("mid") if isinstance(reply_to, dict) else None
            attachments = [
                {"type": a.get("type"), "url": (a.get("payload") or {}).get("url")}
                for a in message.get("attachments") or []
                if isinstance(a, dict)
            ]
            extra: dict[str, object] = {"recipient_id": recipient}
            if attachments:
                extra["attachments"] = attachments
        elif isinstance(postback, dict) and postback.get("mid"):
            mid = _str_id(postback.get("mid"), "postback.mid")
            body = postback.get("title") or ""
            reply_to_id = None
            extra = {"recipient_id": recipient, "postback_payload": postback.get("payload")}
        else:
            return  # delivery, read, reaction, typing: nothing to answer
        if self.kind == "instagram":
            platform = Platform.INSTAGRAM
            account = self._account(Platform.INSTAGRAM)
        else:
            platform = Platform.MESSENGER
            account = self._account(Platform.MESSENGER, Platform.FACEBOOK)
        if account is None:
            return
        self.messages.append(
            InboundMessage(
                channel_account_id=account.id,
                platform=platform,
                platform_message_id=mid,
                author=Author(external_user_id=sender),
                body=str(body),
                created_at=_timestamp(event.get("timestamp", self.entry.get("time"))),
                visibility=Visibility.PRIVATE,
                reply_to_id=str(reply_to_id) if reply_to_id else None,
                conversation_id=dm_conversation_id(self.owner_id, sender),
                extra=extra,
            )
        )


def _json_header(value: str | None) -> object:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def classify_error(
    status: int, body: object, headers: Mapping[str, str] | None = None
) -> SendError:
    """Map a Graph error to a ``SendError`` by ``error.code`` and ``error_subcode``."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), int):
        if status >= 500 or status == 0:
            return SendError(SendFailure.RETRYABLE, f"HTTP {status} from Meta")
        return SendError(SendFailure.PERMANENT, f"HTTP {status} from Meta without an error code")
    code = int(error["code"])
    subcode = error.get("error_subcode")
    label = f"{code}/{subcode}" if isinstance(subcode, int) else str(code)
    reason = str(error.get("message") or f"Graph error {label}")
    if code in AUTH_CODES:
        return SendError(SendFailure.AUTH_REVOKED, reason, code=label)
    if code in RATE_LIMIT_CODES:
        return SendError(
            SendFailure.RATE_LIMITED, reason, code=label, retry_at=_regain_access(headers)
        )
    if (code, subcode) == OUTSIDE_WINDOW:
        return SendError(SendFailure.OUTSIDE_WINDOW, reason, code=label)
    if code in TRANSIENT_CODES:
        return SendError(SendFailure.RETRYABLE, reason, code=label)
    return SendError(SendFailure.PERMANENT, reason, code=label)


def _regain_access(headers: Mapping[str, str] | None) -> datetime | None:
    """When the Business Use Case header says access comes back, if it says."""
    buc = _json_header((headers or {}).get("x-business-use-case-usage"))
    minutes = 0.0
    if isinstance(buc, dict):
        for usages in buc.values():
            for usage in usages if isinstance(usages, list) else []:
                value = (
                    usage.get("estimated_time_to_regain_access")
                    if isinstance(usage, dict)
                    else None
                )
                if isinstance(value, int | float):
                    minutes = max(minutes, float(value))
    return _utcnow() + timedelta(minutes=minutes) if minutes > 0 else None
