"""Webhook endpoints: ``/hooks/<path>`` for every network whose descriptor has webhooks
(``channels/networks.py``): /hooks/x, /hooks/meta, /hooks/whatsapp, and any a plugin adds.

Order of work on a POST: size limit (413) → signature on the raw bytes (401/403,
nothing stored) → JSON well-formed and at most 64 levels deep? (400, kept as a failed
raw event) → raw event
committed → 200. Parsing and ticketing happen in the raw-event worker.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from socialdesk.channels.base import VerificationError
from socialdesk.channels.descriptor import WebhookSpec
from socialdesk.channels.networks import webhook_specs
from socialdesk.domain.enums import RawEventStatus
from socialdesk.observability.metrics import webhook_answered
from socialdesk.pipeline.raw_events import RawDelivery
from socialdesk.web.errors import error_response
from socialdesk.web.limits import json_depth_exceeds, too_deep_reason
from socialdesk.web.raw_inbox import RawInbox

router = APIRouter(prefix="/hooks", tags=["webhooks"])
X_SOURCE = "hooks:x"
META_SOURCE = "hooks:meta"
# Headers worth keeping with a raw event for later inspection (never auth headers).
_KEPT_HEADERS = frozenset(
    {"content-type", "user-agent"} | {h for spec in webhook_specs() for h in spec.kept_headers}
)
Verifier = Callable[[Mapping[str, str], bytes], None]


async def _read_limited(request: Request) -> bytes | Response:
    limit: int = request.app.state.settings.max_webhook_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return error_response(413, f"body larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return error_response(413, f"body larger than {limit} bytes")
    return bytes(body)


async def _store(request: Request, source: str, body: bytes) -> Response:
    headers = {k: v for k, v in request.headers.items() if k.lower() in _KEPT_HEADERS}
    malformed: str | None = None
    try:
        if json_depth_exceeds(body):
            # Checked before parsing: json.loads recurses and would raise RecursionError.
            malformed = too_deep_reason()
        else:
            json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        malformed = f"malformed JSON: {exc}"
    inbox: RawInbox = request.app.state.raw_inbox
    # PostgreSQL text cannot hold NUL; a raw NUL byte is malformed JSON anyway (strings
    # carry it escaped), so the stored copy shows U+FFFD in its place.
    text = body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    delivery = RawDelivery(source, text, headers)
    receipt = await inbox.store(delivery, malformed)
    if malformed:
        return error_response(400, malformed)
    worker = getattr(request.app.state, "raw_event_worker", None)
    if worker is not None:
        worker.kick()
    return JSONResponse(
        {"status": "received", "receipt": receipt, "state": str(RawEventStatus.PENDING)}
    )


async def _receive(request: Request, source: str, verify: Verifier) -> Response:
    """Limit, verify, store; each answer counted (``socialdesk_webhook_requests_total``)
    and a stored one timed from the request's start."""
    started = time.perf_counter()
    label = source.removeprefix("hooks:")
    body = await _read_limited(request)
    if isinstance(body, Response):
        outcome, response = "too_large", body
    else:
        try:
            verify(request.headers, body)
        except VerificationError as exc:
            outcome, response = "rejected", error_response(exc.status_code, exc.reason)
        else:
            response = await _store(request, source, body)
            outcome = "stored" if response.status_code == 200 else "malformed"
    webhook_answered(label, outcome, started, time.perf_counter())
    return response


def _add_routes(spec: WebhookSpec) -> None:
    """GET answers the network's challenge, POST stores a signed delivery; the
    receiver (signature and parser) is the app's, made from the settings
    (``app.state.webhook_receivers``)."""

    def challenge(request: Request) -> Response:
        receiver = request.app.state.webhook_receivers[spec.path]
        try:
            answer = spec.challenge(receiver, request.query_params)
        except VerificationError as exc:
            return error_response(exc.status_code, exc.reason)
        if isinstance(answer.body, str):
            return PlainTextResponse(answer.body)
        return JSONResponse(answer.body)

    async def receive(request: Request) -> Response:
        receiver = request.app.state.webhook_receivers[spec.path]
        return await _receive(request, spec.source, receiver.verify)

    name = spec.path.replace("-", "_")
    router.add_api_route(f"/{spec.path}", challenge, methods=["GET"], name=f"{name}_challenge")
    router.add_api_route(f"/{spec.path}", receive, methods=["POST"], name=f"{name}_event")


for _spec in webhook_specs():
    _add_routes(_spec)
