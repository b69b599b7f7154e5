"""WhatsApp Business Cloud API: signed webhooks in, ``POST /{version}/{phone_number_id}/
messages`` out (Meta's documented wire format; docs/channels.md § WhatsApp).

Accounts: ``external_id`` is the business phone number id (``metadata.phone_number_id``
in webhooks), the secret ``access_token`` a system-user token with
``whatsapp_business_messaging``; webhooks are signed with the Meta app's secret
(``SOCIALDESK_META_APP_SECRET``) and verified with ``SOCIALDESK_META_VERIFY_TOKEN``,
the same app as Facebook and Instagram. ``settings["base_url"]`` may point one account
at another Graph host (an emulator). Errors are classified by ``error.code`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from socialdesk.channels.base import (
    AccountRef,
    AccountResolver,
    Identity,
    LazyHttpClient,
    OutboundRequest,
    ParsedEvent,
    PollResult,
    RateLimitState,
    ReplyKind,
    SendError,
    SendFailure,
    SendResult,
    VerificationError,
)
from socialdesk.channels.signatures import (
    appsecret_proof,
    constant_time_equals,
    verify_meta_signature,
)
from socialdesk.channels.whatsapp.names import DEFAULT_API_VERSION, SIGNATURE_HEADER, WHATSAPP
from socialdesk.channels.whatsapp.webhooks import conversation_id, parse_whatsapp_webhook

DEFAULT_BASE_URL = "https://graph.facebook.com"
AUTH_CODES = frozenset({0, 190, 102})
# 4/80007 app and account limits, 130429 throughput, 131056 too many to one customer.
RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131056})
OUTSIDE_WINDOW_CODE = 131047
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016})
# The Cloud API's limit on an image message's caption (a text message takes 4096).
MAX_CAPTION = 1024


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WhatsAppConnector(LazyHttpClient):
    platform = WHATSAPP

    def __init__(
        self,
        app_secret: str | None = None,
        verify_token: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 20.0,
    ) -> None:
        self._app_secret = app_secret or ""
        self._verify_token = verify_token or ""
        self._base_url = base_url.rstrip("/")
        self.api_version = api_version
        self._transport = transport
        self._timeout = timeout
        self._limits: dict[int, RateLimitState] = {}

    # -- webhooks ----------------------------------------------------------------

    def hub_challenge(self, params: Mapping[str, str]) -> str:
        """Meta's subscription check: echo ``hub.challenge`` when the token matches."""
        if params.get("hub.mode") != "subscribe":
            raise VerificationError("hub.mode is not subscribe", status_code=403)
        given = params.get("hub.verify_token") or ""
        if not self._verify_token or not constant_time_equals(given, self._verify_token):
            raise VerificationError("hub.verify_token mismatch", status_code=403)
        return params.get("hub.challenge") or ""

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        """``X-Hub-Signature-256`` over the raw body, with the Meta app's secret."""
        if not self._app_secret:
            raise VerificationError("Meta app secret is not configured", status_code=503)
        value = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
        if not value:
            raise VerificationError("missing X-Hub-Signature-256", status_code=401)
        if not verify_meta_signature(self._app_secret, raw_body, value):
            raise VerificationError("X-Hub-Signature-256 mismatch", status_code=403)

    def parse_webhook(
        self, raw_body: bytes, resolve: AccountResolver, received_at: datetime | None = None
    ) -> ParsedEvent:
        return parse_whatsapp_webhook(raw_body, resolve, received_at)

    # -- sending -----------------------------------------------------------------

    async def send(self, account: AccountRef, request: OutboundRequest) -> SendResult:
        if request.kind is not ReplyKind.DIRECT_MESSAGE:
            raise SendError(SendFailure.PERMANENT, "WhatsApp has only private chats")
        recipient = _customer(account, request)
        if not recipient:
            raise SendError(SendFailure.PERMANENT, "no WhatsApp number to send to")
        message: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": recipient,
        }
        if request.images:
            message |= await self._image_message(account, request)
        elif request.template is not None:
            template: dict[str, Any] = {
                "name": request.template.name,
                "language": {"code": request.template.language},
            }
            if request.template.parameters:
                template["components"] = [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": p} for p in request.template.parameters
                        ],
                    }
                ]
            message |= {"type": "template", "template": template}
        else:
            message |= {"type": "text", "text": {"preview_url": False, "body": request.body}}
        body = await self._post(account, message)
        sent = body.get("messages")
        wamid = sent[0].get("id") if isinstance(sent, list) and sent else None
        if not isinstance(wamid, str):
            raise SendError(SendFailure.RETRYABLE, "WhatsApp's answer carries no message id")
        return SendResult(
            platform_message_id=wamid,
            conversation_id=request.conversation_id
            or conversation_id(account.external_id, recipient),
            sent_at=_utcnow(),
        )

    async def _image_message(self, account: AccountRef, request: OutboundRequest) -> dict[str, Any]:
        """The reply as one image message, its text the caption: the image is uploaded
        first (``POST /{phone-number-id}/media``), then text and image go out in the one
        ``/messages`` call, so the customer never gets one without the other. A retried
        send uploads again (WhatsApp drops unused media after 30 days)."""
        if request.template is not None:
            raise SendError(SendFailure.PERMANENT, "a WhatsApp template carries no image here")
        if len(request.images) > 1:
            raise SendError(SendFailure.PERMANENT, "a WhatsApp reply carries one image")
        if len(request.body) > MAX_CAPTION:
            raise SendError(
                SendFailure.PERMANENT, f"an image's caption takes up to {MAX_CAPTION} characters"
            )
        image = request.images[0]
        uploaded = await self._call(
            account,
            "POST",
            "/media",
            form={"messaging_product": "whatsapp", "type": image.mime_type},
            files={"file": (image.name, image.data, image.mime_type)},
        )
        media_id = uploaded.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise SendError(SendFailure.RETRYABLE, "WhatsApp's upload answer carries no id")
        caption = {"caption": request.body} if request.body.strip() else {}
        return {"type": "image", "image": {"id": media_id, **caption}}

    async def _post(self, account: AccountRef, message: dict[str, Any]) -> dict[str, Any]:
        return await self._call(account, "POST", "/messages", json_body=message)

    async def _call(
        self,
        account: AccountRef,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        """One Graph call on the number's node (``path`` after its id); errors classified
        as for sends, a rate limit remembered for the account."""
        token = account.secrets.get("access_token")
        if not token:
            raise SendError(SendFailure.AUTH_REVOKED, "account has no access token")
        params = dict(query or {})
        if self._app_secret:
            params["appsecret_proof"] = appsecret_proof(self._app_secret, token)
        try:
            response = await self._http().request(
                method,
                f"{self._base_url}/{self.api_version}/{account.external_id}{path}",
                params=params or None,
                json=json_body,
                data=form,
                files=files,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TimeoutException:
            raise SendError(SendFailure.RETRYABLE, "timed out talking to WhatsApp") from None
        except httpx.TransportError as exc:
            raise SendError(SendFailure.RETRYABLE, f"network error: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or (isinstance(body, dict) and "error" in body):
            error = classify_error(response.status_code, body, response.headers)
            if error.failure is SendFailure.RATE_LIMITED:
                self._limits[account.id] = RateLimitState(remaining=0, reset_at=error.retry_at)
            raise error
        if not isinstance(body, dict):
            raise SendError(SendFailure.RETRYABLE, "WhatsApp answered with a non-JSON body")
        self._limits.pop(account.id, None)
        return body

    async def identify(self, account: AccountRef) -> Identity:
        """Read the phone number node with the token (``GET /{phone-number-id}``)."""
        query = {"fields": "id,display_phone_number,verified_name"}
        body = await self._call(account, "GET", "", query=query)
        return Identity(
            str(body.get("id") or ""),
            str(body.get("display_phone_number") or ""),
            str(body.get("verified_name") or ""),
        )

    async def poll(self, account: AccountRef, cursor: str | None) -> PollResult:
        # The Cloud API has no endpoint that lists messages: they arrive by webhook.
        return PollResult(messages=[], cursor=cursor)

    def rate_limit(self, account: AccountRef) -> RateLimitState:
        return self._limits.get(account.id, RateLimitState())


def _customer(account: AccountRef, request: OutboundRequest) -> str | None:
    """The customer's WhatsApp id: from the chat (``<our number id>:<wa_id>``), else the
    contact's identity."""
    if request.conversation_id:
        owner, _, wa_id = request.conversation_id.partition(":")
        if owner == account.external_id and wa_id:
            return wa_id
    return request.recipient_id


def classify_error(
    status: int, body: object, headers: Mapping[str, str] | None = None
) -> SendError:
    """Map a Cloud API error (``{"error": {"code", "message", "error_data"}}``) to a
    ``SendError`` by its code."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), int):
        if status >= 500 or status == 0:
            return SendError(SendFailure.RETRYABLE, f"HTTP {status} from WhatsApp")
        if status == 429:
            return SendError(SendFailure.RATE_LIMITED, "HTTP 429 from WhatsApp")
        return SendError(SendFailure.PERMANENT, f"HTTP {status} from WhatsApp without a code")
    code = int(error["code"])
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    reason = str(error.get("message") or f"WhatsApp error {code}")
    if isinstance(details, str) and details and details not in reason:
        reason = f"{reason}: {details}"
    label = str(code)
    if code in AUTH_CODES:
        return SendError(SendFailure.AUTH_REVOKED, reason, code=label)
    if code in RATE_LIMIT_CODES or status == 429:
        return SendError(
            SendFailure.RATE_LIMITED, reason, code=label, retry_at=_retry_after(headers)
        )
    if code == OUTSIDE_WINDOW_CODE:
        return SendError(SendFailure.OUTSIDE_WINDOW, reason, code=label)
    if code in TRANSIENT_CODES or status >= 500:
        return SendError(SendFailure.RETRYABLE, reason, code=label)
    return SendError(SendFailure.PERMANENT, reason, code=label)


def _retry_after(headers: Mapping[str, str] | None) -> datetime | None:
    value = (headers or {}).get("retry-after", "")
    if value.isdigit() and int(value) < 86_400:
        return _utcnow() + timedelta(seconds=int(value))
    return None
