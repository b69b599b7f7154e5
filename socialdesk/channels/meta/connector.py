"""Meta: Facebook Page comments, Messenger, Instagram comments and DMs (Graph API).

Wire format: ../shared/specs/social-platform-apis.md §2. Errors are classified by
``error.code`` / ``error_subcode`` only, never by message text.

Accounts: a Facebook Page is ``Platform.FACEBOOK`` (or ``MESSENGER``; either is found
for both feed and messaging events), an Instagram professional account is
``Platform.INSTAGRAM``. ``external_id`` is the Page id or the IG account id. An IG
account whose DMs go through its Page's token may name the Page in
``settings["page_id"]``.

Never posting twice (Graph has no idempotency key): ``find_sent_message`` reads back a
comment reply or DM whose answer was lost (``meta_lookups``), and webhook echoes of our
own sends are reported as ``ParsedEvent.echoes`` so the pipeline can confirm them
(``socialdesk.pipeline.echoes``). A DM on a comment ticket (no DM conversation yet) goes
out as Meta's private reply to the comment, ``recipient: {"comment_id": …}``.
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
    EchoedSend,
    Identity,
    LazyHttpClient,
    OutboundRequest,
    ParsedEvent,
    PayloadError,
    PollResult,
    RateLimitState,
    RejectedEvent,
    ReplyKind,
    SendError,
    SendFailure,
    SendResult,
    VerificationError,
    refuse_if_nothing_read,
)
from socialdesk.channels.meta.lookups import CommentReplyLookup, ConversationLookup
from socialdesk.channels.meta.outbound_media import comment_photo, dm_content, dm_image_file
from socialdesk.channels.meta.webhooks import (
    FEED_VERBS,
    EntryParser,
    dm_conversation_id,
    graph_timestamp,
    json_array,
    json_object,
    rejected_entry,
    string_id,
)
from socialdesk.channels.signatures import (
    META_SIGNATURE_HEADER,
    appsecret_proof,
    constant_time_equals,
    is_token_shaped,
    verify_meta_signature,
)
from socialdesk.domain.enums import Platform
from socialdesk.domain.messages import InboundMessage

__all__ = ["FEED_VERBS", "MetaConnector", "classify_error", "dm_conversation_id"]

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"

AUTH_CODES = frozenset({190, 102, 200, 230})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
TRANSIENT_CODES = frozenset({1, 2})
OUTSIDE_WINDOW = (10, 2018278)
# A second private reply to the same comment: the first one went out. Permanent for
# any other call; the private reply path looks the first one up.
ALREADY_REPLIED = "10900"


def _utcnow() -> datetime:
    return datetime.now(UTC)


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

    def parse_webhook(
        self,
        raw_body: bytes,
        resolve_account: AccountResolver,
        received_at: datetime | None = None,
    ) -> ParsedEvent:
        """Every entry of a ``page`` or ``instagram`` body, routed by ``entry[].id``; an
        entry (or one change of it) that cannot be read is refused on its own."""
        try:
            payload = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            # RecursionError: nested deeper than the json module can read (hooks refuse
            # those at the door; a stored or replayed body may still hold one).
            raise PayloadError(f"body is not JSON: {exc}") from None
        payload = json_object(payload, "body")
        kind = payload.get("object")
        if not isinstance(kind, str):
            raise PayloadError("object is missing")
        entries = json_array(payload.get("entry"), "entry")
        if kind not in ("page", "instagram"):
            return ParsedEvent(messages=[])
        messages: list[InboundMessage] = []
        echoes: list[EchoedSend] = []
        rejected: list[RejectedEvent] = []
        ignored: list[str] = []
        for entry in entries:
            try:
                entry = json_object(entry, "entry")
                owner_id = string_id(entry.get("id"), "entry.id")
                parser = EntryParser(kind, owner_id, entry, resolve_account, received_at)
                parser.run()
            except PayloadError as exc:
                rejected.append(rejected_entry(exc, kind, entry))
                continue
            messages.extend(parser.messages)
            echoes.extend(parser.echoes)
            rejected.extend(parser.rejected)
            ignored.extend(parser.ignored)
        return refuse_if_nothing_read(
            ParsedEvent(
                messages=messages,
                echoed_message_ids=[echo.platform_message_id for echo in echoes],
                echoes=echoes,
                rejected=rejected,
                ignored=ignored,
            )
        )

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
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        return await self._call("POST", account, path, form=form, json_body=json_body, files=files)

    async def _get(
        self, account: AccountRef, path: str, query: Mapping[str, str]
    ) -> dict[str, Any]:
        return await self._call("GET", account, path, query=query)

    async def _call(
        self,
        method: str,
        account: AccountRef,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        json_body: Mapping[str, object] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        token = account.secrets.get("access_token")
        if not token:
            raise SendError(SendFailure.AUTH_REVOKED, "account has no access token")
        params = dict(query or {})
        if self._app_secret:
            params["appsecret_proof"] = appsecret_proof(self._app_secret, token)
        try:
            response = await self._http().request(
                method,
                f"{self._base_url}/{self.api_version}{path}",
                params=params,
                data=form,
                json=json_body,
                files=files,
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

    async def identify(self, account: AccountRef) -> Identity:
        """Read the account's own Graph node with its token: Meta refuses a token that
        cannot see the Page or Instagram account (error 190, or 100 for another node)."""
        instagram = account.platform is Platform.INSTAGRAM
        fields = "id,username,name" if instagram else "id,name"
        node = await self._get(account, f"/{account.external_id}", {"fields": fields})
        name = str(node.get("name") or "")
        return Identity(str(node.get("id") or ""), str(node.get("username") or name), name)

    # -- sending -----------------------------------------------------------------

    async def send(self, account: AccountRef, request: OutboundRequest) -> SendResult:
        if request.kind is ReplyKind.PUBLIC_REPLY:
            if not request.in_reply_to_id:
                raise SendError(SendFailure.PERMANENT, "a comment reply needs in_reply_to_id")
            instagram = account.platform is Platform.INSTAGRAM
            edge = "replies" if instagram else "comments"
            body = await self._post(
                account,
                f"/{request.in_reply_to_id}/{edge}",
                form={"message": request.body},
                files=comment_photo(request, instagram),
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
            comment_id = private_reply_target(account, request)
            if comment_id is not None:
                refusal = self.refuse_images(account, request) if request.images else None
                if refusal is not None:
                    raise SendError(SendFailure.PERMANENT, refusal)
                return await self._send_private_reply(account, request, comment_id)
            # The DM thread names the customer's messaging id; on a ticket that began as
            # a Facebook comment the contact's own id is the commenter's, not the PSID.
            recipient = thread_customer(account, request.conversation_id) or request.recipient_id
            if not recipient:
                raise SendError(SendFailure.PERMANENT, "a DM needs recipient_id or conversation")
            message: dict[str, object] = {"recipient": {"id": recipient}}
            message |= dm_content(request)
            if request.human_agent_tag:
                message["messaging_type"] = "MESSAGE_TAG"
                message["tag"] = "HUMAN_AGENT"
            else:
                message["messaging_type"] = "RESPONSE"
            if request.images:
                body = await self._post(
                    account,
                    f"/{inbox_id(account)}/messages",
                    # Multipart: the JSON parameters as strings beside the file.
                    form={
                        k: v if isinstance(v, str) else json.dumps(v) for k, v in message.items()
                    },
                    files=dm_image_file(request),
                )
            else:
                body = await self._post(
                    account, f"/{inbox_id(account)}/messages", json_body=message
                )
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

    async def _send_private_reply(
        self, account: AccountRef, request: OutboundRequest, comment_id: str
    ) -> SendResult:
        """Meta's private reply: the commenter gets a DM, one per comment, within 7 days
        of the comment. A second attempt answers 10900: then the first one went out
        (a worker that lost Meta's answer), and it is found among recent conversations."""
        message = {"recipient": {"comment_id": comment_id}, "message": {"text": request.body}}
        try:
            body = await self._post(account, f"/{inbox_id(account)}/messages", json_body=message)
        except SendError as error:
            if (error.code or "").split("/")[0] != ALREADY_REPLIED:
                raise
            found = await self._find_private_reply(account, comment_id, request.body)
            if found is None:
                raise SendError(
                    SendFailure.PERMANENT,
                    "Meta allows one private reply per comment, and this comment already "
                    "has one with other words",
                    code=error.code,
                ) from None
            return found
        mid = body.get("message_id")
        if not isinstance(mid, str):
            raise SendError(SendFailure.RETRYABLE, "Meta's answer carries no message_id")
        customer = body.get("recipient_id")
        return SendResult(
            platform_message_id=mid,
            # The customer's answer will come from this id, in this thread.
            conversation_id=dm_conversation_id(account.external_id, str(customer))
            if customer
            else None,
            sent_at=_utcnow(),
        )

    async def _find_private_reply(
        self, account: AccountRef, comment_id: str, text: str
    ) -> SendResult | None:
        instagram = account.platform is Platform.INSTAGRAM
        try:
            comment = await self._get(
                account,
                f"/{comment_id}",
                {"fields": "id,timestamp" if instagram else "id,created_time"},
            )
            since = graph_timestamp(comment.get("timestamp" if instagram else "created_time"))
        except (SendError, PayloadError):
            since = None
        found = await self._conversations(account).find_private_reply(text, since)
        if found is None:
            return None
        return SendResult(
            platform_message_id=found.message_id,
            conversation_id=dm_conversation_id(account.external_id, found.customer_id)
            if found.customer_id
            else None,
        )

    def refuse_images(self, account: AccountRef, request: OutboundRequest) -> str | None:
        """Why this DM cannot carry its images, before any part is sent: a DM on a
        comment ticket is Meta's private reply, one message until the customer writes
        back, so an image cannot follow it."""
        if request.kind is ReplyKind.DIRECT_MESSAGE and private_reply_target(account, request):
            return (
                "Meta lets a Page send one private reply to a comment until the customer "
                "answers, so its images cannot follow; send them once they write back"
            )
        return None

    # -- finding a send whose answer was lost -----------------------------------------

    def _conversations(self, account: AccountRef) -> ConversationLookup:
        return ConversationLookup(
            lambda path, query: self._get(account, path, query),
            graph_timestamp,
            inbox_id(account),
            {account.external_id, inbox_id(account)},
            instagram=account.platform is Platform.INSTAGRAM,
        )

    async def find_recent_post(
        self, account: AccountRef, text: str, in_reply_to: str | None = None
    ) -> str | None:
        """Our comment reply with this text under ``in_reply_to``, if Meta has it."""
        if not in_reply_to:
            return None
        lookup = CommentReplyLookup(
            lambda path, query: self._get(account, path, query),
            graph_timestamp,
            {account.external_id},
            instagram=account.platform is Platform.INSTAGRAM,
        )
        return await lookup.find(in_reply_to, text)

    async def find_sent_message(
        self, account: AccountRef, request: OutboundRequest
    ) -> SendResult | None:
        """The send of ``request`` if Meta already has it: a comment reply under its
        comment, a DM in the customer's conversation after the message it answers.
        A private reply is never looked up: Meta's one-per-comment rule makes sending
        it again safe (see ``_send_private_reply``)."""
        if request.kind is ReplyKind.PUBLIC_REPLY:
            found = await self.find_recent_post(account, request.body, request.in_reply_to_id)
            return SendResult(found, request.conversation_id) if found else None
        if request.kind is not ReplyKind.DIRECT_MESSAGE:
            return None
        if private_reply_target(account, request) is not None:
            return None
        customer = thread_customer(account, request.conversation_id) or request.recipient_id
        if not customer:
            return None
        mid = await self._conversations(account).find_dm(
            customer, request.body, request.in_reply_to_id
        )
        if mid is None:
            return None
        conversation = request.conversation_id or dm_conversation_id(account.external_id, customer)
        return SendResult(mid, conversation)

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


def inbox_id(account: AccountRef) -> str:
    """Where the account's DMs are sent from and read: its Page for an IG account
    messaging through the Page token, else itself."""
    return str(account.settings.get("page_id") or account.external_id)


def thread_customer(account: AccountRef, conversation_id: str | None) -> str | None:
    """The customer's messaging id when ``conversation_id`` is one of the account's
    DM threads (``dm_conversation_id``), else None."""
    prefix = f"{account.external_id}:"
    if (
        conversation_id
        and conversation_id.startswith(prefix)
        and len(conversation_id) > len(prefix)
    ):
        return conversation_id[len(prefix) :]
    return None


def private_reply_target(account: AccountRef, request: OutboundRequest) -> str | None:
    """The comment a DM must answer as a private reply: a private message on a ticket
    whose customer has not written a DM yet answers their comment, because Meta lets a
    Page message a commenter only that way."""
    if request.kind is not ReplyKind.DIRECT_MESSAGE or not request.in_reply_to_id:
        return None
    if thread_customer(account, request.conversation_id) is not None:
        return None
    return request.in_reply_to_id


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
