"""A local stand-in for the WhatsApp Business Cloud API, speaking its wire format.

API: ``POST /{version}/{phone_number_id}/media`` (multipart ``file``, ``type``,
``messaging_product``: a JPEG or PNG up to 5 MB, answered with its id; ``GET
/_emulator/media`` lists them) and ``POST /{version}/{phone_number_id}/messages``
(text, template and image messages, ``image: {"id", "caption"?}``; bearer
token per number, ``appsecret_proof`` checked when sent; Graph error bodies
``{"error": {"message", "type", "code", "error_data", "fbtrace_id"}}``; 429 with code
130429 and ``Retry-After`` past the configured throughput). A free-form message to a
customer who has not written within 24 hours is accepted and then fails by status
webhook with 131047, as the real API does.

Webhooks: signed ``X-Hub-Signature-256`` (the app secret) POSTs to the configured URL:
customers' messages, and ``sent`` → ``delivered`` statuses of each accepted send
``status_delay_seconds`` later (``read`` on request).

Control routes (``/_emulator/...``): ``PUT webhook`` ``{"url", "status_delay_seconds"}``;
``POST numbers`` ``{"phone_number_id", "access_token", "templates": [{"name",
"language", "body"}]}``; ``POST customer_message`` ``{"phone_number_id", "from",
"name", "text" | "media": {"type", "caption", "mime_type"}, "context_id"}``;
``POST read`` ``{"id"}``; ``POST rate_limit`` ``{"limit", "window_seconds"}``;
``POST faults`` ``{"status", "code", "count"}``; ``POST clock``
``{"advance_seconds"}``; ``GET sent``, ``GET deliveries``, ``GET requests``.

Kept in this folder (channels may not import ``socialdesk.emulators``): it shares only
the signature function with the connector.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse

from socialdesk.channels.signatures import appsecret_proof, constant_time_equals, meta_signature
from socialdesk.channels.whatsapp.emulator_media import check_image, store_media
from socialdesk.channels.whatsapp.names import SIGNATURE_HEADER

WINDOW = timedelta(hours=24)
MAX_TEXT = 4096
_PLACEHOLDER = re.compile(r"\{\{\s*\d+\s*\}\}")


@dataclass
class Number:
    phone_number_id: str
    access_token: str
    templates: list[dict[str, str]] = field(default_factory=list)
    display_phone_number: str = ""
    verified_name: str = ""


@dataclass
class WhatsAppState:
    app_secret: str
    webhook_url: str | None = None
    status_delay_seconds: float = 0.3
    offset: timedelta = timedelta()
    numbers: dict[str, Number] = field(default_factory=dict)
    # (phone_number_id, wa_id) → when the customer last wrote.
    last_inbound: dict[tuple[str, str], datetime] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    faults: deque[tuple[int, int]] = field(default_factory=deque)
    rate_limit: int | None = None
    rate_window: float = 1.0
    recent_sends: deque[datetime] = field(default_factory=deque)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # Uploaded media by id: phone_number_id, mime_type, size, sha256, messages sent with it.
    media: dict[str, dict[str, Any]] = field(default_factory=dict)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def wamid(self) -> str:
        return f"wamid.EMU{next(self.ids):08d}"


def graph_error(
    status: int, code: int, message: str, kind: str = "OAuthException", details: str = ""
) -> JSONResponse:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = "AemulatorTrace"
    headers = {"retry-after": "1"} if status == 429 else None
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def create_whatsapp_emulator(app_secret: str, **options: Any) -> FastAPI:
    state = WhatsAppState(app_secret=app_secret, **options)
    app = FastAPI(title="WhatsApp Cloud API emulator")
    app.state.whatsapp = state
    tasks: set[asyncio.Task[None]] = set()

    async def deliver(payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        record: dict[str, Any] = {"body": payload, "status": None}
        state.deliveries.append(record)
        if not state.webhook_url:
            return
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: meta_signature(state.app_secret, body),
        }
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.post(state.webhook_url, content=body, headers=headers)
            record["status"] = response.status_code
        except httpx.HTTPError:
            record["status"] = None

    def envelope(number_id: str, value: dict[str, Any]) -> dict[str, Any]:
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": number_id},
            **value,
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA-EMU", "changes": [{"field": "messages", "value": value}]}],
        }

    def status_payload(
        number_id: str, wamid: str, to: str, status: str, error: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(state.now().timestamp())),
            "recipient_id": to,
        }
        if error:
            entry["errors"] = [error]
        return envelope(number_id, {"statuses": [entry]})

    async def later(payloads: list[dict[str, Any]]) -> None:
        await asyncio.sleep(state.status_delay_seconds)
        for payload in payloads:
            await deliver(payload)

    def schedule(payloads: list[dict[str, Any]]) -> None:
        task = asyncio.get_running_loop().create_task(later(payloads))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def authorize(number_id: str, request: Request) -> Number | JSONResponse:
        number = state.numbers.get(number_id)
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip()
        if number is None or not token or not constant_time_equals(token, number.access_token):
            return graph_error(401, 190, "Error validating access token: invalid token")
        proof = request.query_params.get("appsecret_proof")
        if proof is not None and not constant_time_equals(
            proof, appsecret_proof(state.app_secret, token)
        ):
            return graph_error(400, 100, "Invalid appsecret_proof provided in the API argument")
        return number

    @app.post("/{version}/{number_id}/media")
    async def upload_media(version: str, number_id: str, request: Request) -> JSONResponse:
        state.requests[f"POST /{version}/{{phone_number_id}}/media"] += 1
        number = authorize(number_id, request)
        if isinstance(number, JSONResponse):
            return number
        media_id, problem = await store_media(state, number_id, request)
        if problem is not None:
            return problem
        return JSONResponse({"id": media_id})

    @app.get("/_emulator/media")
    def media() -> dict[str, dict[str, Any]]:
        return state.media

    @app.post("/{version}/{number_id}/messages")
    async def send_message(version: str, number_id: str, request: Request) -> JSONResponse:
        state.requests[f"POST /{version}/{{phone_number_id}}/messages"] += 1
        number = authorize(number_id, request)
        if isinstance(number, JSONResponse):
            return number
        if state.faults:
            status, code = state.faults.popleft()
            return graph_error(status, code, "Injected fault", kind="GraphMethodException")
        now = state.now()
        if state.rate_limit is not None:
            while state.recent_sends and now - state.recent_sends[0] > timedelta(
                seconds=state.rate_window
            ):
                state.recent_sends.popleft()
            if len(state.recent_sends) >= state.rate_limit:
                return graph_error(
                    429, 130429, "(#130429) Rate limit hit", details="Cloud API throughput reached"
                )
        try:
            message = await request.json()
        except ValueError:
            return graph_error(400, 100, "Invalid parameter", details="body is not JSON")
        if not isinstance(message, dict) or message.get("messaging_product") != "whatsapp":
            return graph_error(
                400, 100, "(#100) Invalid parameter", details="messaging_product is required"
            )
        to = message.get("to")
        if not isinstance(to, str) or not to.strip("+").isdigit():
            return graph_error(400, 100, "(#100) Invalid parameter", details="to is not a number")
        kind = message.get("type", "text")
        problem = (
            check_image(state, number_id, message)
            if kind == "image"
            else _check_content(number, kind, message)
        )
        if problem is not None:
            return problem
        wamid = state.wamid()
        if kind == "image":
            state.media[message["image"]["id"]]["sent_with"].append(wamid)
        state.recent_sends.append(now)
        state.sent.append({"id": wamid, "phone_number_id": number_id, **message})
        last = state.last_inbound.get((number_id, to.strip("+")))
        if kind != "template" and (last is None or now - last >= WINDOW):
            failure = {
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {
                    "details": "Message failed to send because more than 24 hours have passed "
                    "since the customer last replied to this number."
                },
            }
            schedule([status_payload(number_id, wamid, to, "failed", failure)])
        else:
            schedule(
                [
                    status_payload(number_id, wamid, to, "sent"),
                    status_payload(number_id, wamid, to, "delivered"),
                ]
            )
        answer: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.strip("+")}],
            "messages": [{"id": wamid}],
        }
        if kind == "template":
            answer["messages"][0]["message_status"] = "accepted"
        return JSONResponse(answer)

    @app.put("/_emulator/webhook")
    def configure_webhook(config: dict[str, Any] = Body(...)) -> dict[str, Any]:
        if "url" in config:
            state.webhook_url = config["url"]
        if "status_delay_seconds" in config:
            state.status_delay_seconds = float(config["status_delay_seconds"])
        return {"url": state.webhook_url, "status_delay_seconds": state.status_delay_seconds}

    @app.post("/_emulator/numbers")
    def add_number(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        number = Number(
            str(spec["phone_number_id"]),
            str(spec["access_token"]),
            spec.get("templates", []),
            str(spec.get("display_phone_number") or ""),
            str(spec.get("verified_name") or ""),
        )
        state.numbers[number.phone_number_id] = number
        return {"phone_number_id": number.phone_number_id}

    @app.post("/_emulator/customer_message")
    async def customer_message(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        number_id, wa_id = str(spec["phone_number_id"]), str(spec["from"])
        now = state.now()
        message: dict[str, Any] = {
            "from": wa_id,
            "id": spec.get("id") or state.wamid(),
            "timestamp": str(int(now.timestamp())),
        }
        if spec.get("context_id"):
            message["context"] = {"from": number_id, "id": spec["context_id"]}
        media = spec.get("media")
        if isinstance(media, dict):
            kind = str(media.get("type", "image"))
            message["type"] = kind
            message[kind] = {
                "id": f"MEDIA{next(state.ids)}",
                "mime_type": media.get("mime_type", "image/jpeg"),
                "sha256": "emulated",
                **({"caption": media["caption"]} if media.get("caption") else {}),
                **({"filename": media["filename"]} if media.get("filename") else {}),
            }
        else:
            message["type"] = "text"
            message["text"] = {"body": str(spec.get("text", ""))}
        state.last_inbound[(number_id, wa_id)] = now
        contacts = [{"profile": {"name": spec.get("name", "")}, "wa_id": wa_id}]
        await deliver(envelope(number_id, {"contacts": contacts, "messages": [message]}))
        return {"id": message["id"], "delivery_status": state.deliveries[-1]["status"]}

    @app.post("/_emulator/read")
    async def mark_read(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        sent = next((m for m in state.sent if m["id"] == spec["id"]), None)
        if sent is None:
            return {"found": False}
        await deliver(status_payload(sent["phone_number_id"], sent["id"], sent["to"], "read"))
        return {"found": True}

    @app.post("/_emulator/rate_limit")
    def set_rate_limit(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        state.rate_limit = spec.get("limit")
        state.rate_window = float(spec.get("window_seconds", 1.0))
        state.recent_sends.clear()
        return {"limit": state.rate_limit, "window_seconds": state.rate_window}

    @app.post("/_emulator/faults")
    def add_faults(spec: dict[str, Any] = Body(...)) -> dict[str, int]:
        for _ in range(int(spec.get("count", 1))):
            state.faults.append((int(spec.get("status", 500)), int(spec.get("code", 131000))))
        return {"queued": len(state.faults)}

    @app.post("/_emulator/clock")
    def advance(spec: dict[str, Any] = Body(...)) -> dict[str, str]:
        state.offset += timedelta(seconds=float(spec.get("advance_seconds", 0)))
        return {"now": state.now().isoformat()}

    @app.get("/_emulator/sent")
    def sent() -> list[dict[str, Any]]:
        return state.sent

    @app.get("/_emulator/deliveries")
    def deliveries() -> list[dict[str, Any]]:
        return state.deliveries

    @app.get("/_emulator/requests")
    def requests() -> dict[str, int]:
        return dict(state.requests)

    # After the control routes: "/_emulator/sent" would match "/{version}/{number_id}".
    @app.get("/{version}/{number_id}")
    async def read_number(version: str, number_id: str, request: Request) -> JSONResponse:
        number = state.numbers.get(number_id)
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if number is None or not token or not constant_time_equals(token, number.access_token):
            return graph_error(401, 190, "Error validating access token: invalid token")
        return JSONResponse(
            {
                "id": number.phone_number_id,
                "display_phone_number": number.display_phone_number,
                "verified_name": number.verified_name,
            }
        )

    return app


def _check_content(number: Number, kind: object, message: dict[str, Any]) -> JSONResponse | None:
    """The request's content as the Cloud API validates it, or its error."""
    if kind == "text":
        text = message.get("text")
        body = text.get("body") if isinstance(text, dict) else None
        if not isinstance(body, str) or not body.strip():
            return graph_error(400, 100, "(#100) Invalid parameter", details="text.body required")
        if len(body) > MAX_TEXT:
            return graph_error(
                400, 100, "(#100) Param text['body'] must be at most 4096 characters long."
            )
        return None
    if kind == "template":
        template = message.get("template")
        if not isinstance(template, dict):
            return graph_error(400, 100, "(#100) Invalid parameter", details="template required")
        language = template.get("language")
        code = language.get("code") if isinstance(language, dict) else None
        approved = next(
            (
                t
                for t in number.templates
                if t.get("name") == template.get("name") and t.get("language", "en_US") == code
            ),
            None,
        )
        if approved is None:
            return graph_error(
                404,
                132001,
                "(#132001) Template name does not exist in the translation",
                details=f"template name ({template.get('name')}) does not exist in {code}",
            )
        given = sum(
            len(c.get("parameters", []))
            for c in template.get("components", [])
            if isinstance(c, dict) and c.get("type") == "body"
        )
        expected = len(_PLACEHOLDER.findall(approved.get("body", "")))
        if given != expected:
            return graph_error(
                400,
                132000,
                "(#132000) Number of parameters does not match the expected number of params",
                details=f"body: number of localizable_params ({given}) does not match the "
                f"expected number of params ({expected})",
            )
        return None
    return graph_error(400, 100, "(#100) Invalid parameter", details=f"unsupported type {kind}")


def emulator_for_cli(secret: str | None, *, webhook_url: str | None = None) -> FastAPI:
    """What ``socialdesk emulate whatsapp`` serves (the descriptor's ``emulator``)."""
    return create_whatsapp_emulator(secret or "emulator-secret", webhook_url=webhook_url)
