"""Pieces every platform emulator shares: a movable clock, fault injection, the log of
what the client sent, and signed webhook delivery with retries, duplicates, holding
and reordering.

Control routes (``/_emulator/...``) added by ``add_common_routes``:

- ``PUT /_emulator/webhook`` ``{"url", "max_retries", "retry_delay_seconds",
  "timeout_seconds", "duplicate_deliveries", "hold"}`` — any subset; returns the config.
- ``POST /_emulator/webhook/flush`` ``{"order": "fifo"|"reverse"|"shuffle", "seed"}`` —
  deliver what ``hold`` kept back, in that order (Meta batches held entries).
- ``GET /_emulator/deliveries`` — every delivery attempt: ``delivery_id``, ``attempt``,
  ``status`` (None on a network error), ``duplicate``, ``body``.
- ``GET /_emulator/sent`` — every accepted write call the client made.
- ``GET /_emulator/requests`` — how many API calls arrived, by ``"METHOD /path"``,
  counted on arrival: refused ones (duplicates, 429s, injected faults) included.
- ``POST /_emulator/clock`` ``{"advance_seconds"}`` — move the emulator's clock.
- ``POST /_emulator/faults`` ``{"status", "count", ...}`` — the next ``count`` API calls
  fail with that status (and, for Meta, ``code``/``error_subcode``).
- ``POST /_emulator/media`` ``{"name", "content_type", "data_base64"}`` — a file the
  network holds (a customer's photo); returns ``{"url"}``, the CDN address a payload
  carries. ``GET /media/<name>`` serves its bytes; a URL with Meta's ``oe=<hex expiry>``
  answers 403 once the emulator's clock has passed it, as the CDN does.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import Body, FastAPI, HTTPException, Request, Response


class Clock:
    """Wall-clock time plus an offset a test can advance."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def time(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class DeliveryConfig:
    url: str | None = None
    max_retries: int = 3
    # Attempt n (1-based retry) waits retry_delay_seconds * 2 ** (n - 1).
    retry_delay_seconds: float = 5.0
    timeout_seconds: float = 3.0
    duplicate_deliveries: int = 0
    hold: bool = False


@dataclass
class _Held:
    payload: dict[str, Any]
    group: str


Serializer = Callable[[dict[str, Any]], bytes]
Signer = Callable[[bytes], dict[str, str]]
Combiner = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


class WebhookDeliverer:
    """Serialises, signs and POSTs payloads to ``config.url`` like the platform does."""

    def __init__(
        self,
        serialize: Serializer,
        sign: Signer,
        combine: Combiner | None = None,
        config: DeliveryConfig | None = None,
    ) -> None:
        self.serialize = serialize
        self.sign = sign
        self.combine = combine or (lambda payloads: payloads)
        self.config = config or DeliveryConfig()
        self.log: list[dict[str, Any]] = []
        self._held: list[_Held] = []
        self._next_id = 1
        self._tasks: set[asyncio.Task[Any]] = set()

    async def deliver(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Deliver one payload (held instead when ``hold`` is on). Returns the attempts."""
        if self.config.hold:
            self._held.append(_Held(payload, group=str(payload.get("object", ""))))
            return []
        return await self._send_with_copies(payload)

    def deliver_later(self, payload: dict[str, Any], delay: float = 0.0) -> None:
        """Deliver in the background (echoes arrive after the API call returned)."""

        async def run() -> None:
            if delay:
                await asyncio.sleep(delay)
            await self.deliver(payload)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self, order: str = "fifo", seed: int | None = None) -> list[dict[str, Any]]:
        held, self._held = self._held, []
        if order == "reverse":
            held.reverse()
        elif order == "shuffle":
            random.Random(seed).shuffle(held)
        attempts: list[dict[str, Any]] = []
        for payload in self.combine([h.payload for h in held]):
            attempts.extend(await self._send_with_copies(payload))
        return attempts

    @property
    def held_count(self) -> int:
        return len(self._held)

    async def _send_with_copies(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        raw = self.serialize(payload)
        attempts: list[dict[str, Any]] = []
        for copy in range(1 + max(0, self.config.duplicate_deliveries)):
            attempts.extend(await self._send(raw, duplicate=copy > 0))
        return attempts

    async def _send(self, raw: bytes, *, duplicate: bool) -> list[dict[str, Any]]:
        config = self.config
        delivery_id = self._next_id
        self._next_id += 1
        attempts: list[dict[str, Any]] = []
        if not config.url:
            record: dict[str, Any] = {"delivery_id": delivery_id, "attempt": 0, "status": None}
            record |= {"error": "no webhook url", "duplicate": duplicate, "body": raw.decode()}
            self.log.append(record)
            return [record]
        headers = {"Content-Type": "application/json", **self.sign(raw)}
        async with httpx.AsyncClient(timeout=config.timeout_seconds) as client:
            for attempt in range(config.max_retries + 1):
                if attempt:
                    await asyncio.sleep(config.retry_delay_seconds * 2 ** (attempt - 1))
                status: int | None = None
                error: str | None = None
                try:
                    response = await client.post(config.url, content=raw, headers=headers)
                    status = response.status_code
                except httpx.HTTPError as exc:
                    error = type(exc).__name__
                record = {
                    "delivery_id": delivery_id,
                    "attempt": attempt + 1,
                    "status": status,
                    "error": error,
                    "duplicate": duplicate,
                    "body": raw.decode("utf-8"),
                }
                self.log.append(record)
                attempts.append(record)
                if status == 200:
                    break
        return attempts


@dataclass
class Fault:
    status: int
    remaining: int
    extra: dict[str, Any] = field(default_factory=dict)


class FaultQueue:
    """Failures injected for the next API calls."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, status: int, count: int = 1, **extra: Any) -> None:
        self._faults.append(Fault(status=status, remaining=count, extra=extra))

    def take(self) -> Fault | None:
        while self._faults and self._faults[0].remaining <= 0:
            self._faults.pop(0)
        if not self._faults:
            return None
        fault = self._faults[0]
        fault.remaining -= 1
        return fault


@dataclass
class EmulatorCore:
    deliverer: WebhookDeliverer
    clock: Clock = field(default_factory=Clock)
    faults: FaultQueue = field(default_factory=FaultQueue)
    sent: list[dict[str, Any]] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    id_counter: int = 0
    # Media the network holds, by name: (bytes, content type).
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    def next_seq(self) -> int:
        self.id_counter += 1
        return self.id_counter


def add_common_routes(app: FastAPI, core: EmulatorCore) -> None:
    deliverer = core.deliverer

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Counted before any handler runs, so a call the emulator refuses still counts:
        # a client that posts twice is seen even when the network rejects the second.
        if not request.url.path.startswith("/_emulator"):
            core.requests[f"{request.method} {request.url.path}"] += 1
        return await call_next(request)

    @app.get("/_emulator/requests", tags=["emulator"])
    async def requests() -> dict[str, int]:
        return dict(core.requests)

    @app.put("/_emulator/webhook", tags=["emulator"])
    async def configure_webhook(changes: dict[str, Any] = Body(...)) -> dict[str, Any]:
        for key, value in changes.items():
            if not hasattr(deliverer.config, key):
                raise HTTPException(400, f"unknown webhook setting {key!r}")
            setattr(deliverer.config, key, value)
        return asdict(deliverer.config)

    @app.post("/_emulator/webhook/flush", tags=["emulator"])
    async def flush(options: dict[str, Any] | None = Body(None)) -> dict[str, Any]:
        options = options or {}
        attempts = await deliverer.flush(str(options.get("order", "fifo")), options.get("seed"))
        return {"attempts": attempts}

    @app.get("/_emulator/deliveries", tags=["emulator"])
    async def deliveries() -> list[dict[str, Any]]:
        return deliverer.log

    @app.get("/_emulator/sent", tags=["emulator"])
    async def sent() -> list[dict[str, Any]]:
        return core.sent

    @app.post("/_emulator/clock", tags=["emulator"])
    async def clock(body: dict[str, float] = Body(...)) -> dict[str, str]:
        core.clock.advance(float(body.get("advance_seconds", 0)))
        return {"now": core.clock.now().isoformat()}

    @app.post("/_emulator/media", tags=["emulator"])
    async def add_media(request: Request, body: dict[str, Any] = Body(...)) -> dict[str, str]:
        name = str(body.get("name", ""))
        if not name or "/" in name:
            raise HTTPException(400, "name: a file name without '/'")
        try:
            data = base64.b64decode(str(body.get("data_base64", "")), validate=True)
        except binascii.Error:
            raise HTTPException(400, "data_base64: not base64") from None
        core.media[name] = (data, str(body.get("content_type", "application/octet-stream")))
        return {"url": f"{str(request.base_url).rstrip('/')}/media/{name}"}

    @app.get("/media/{name}", tags=["emulator"])
    async def media(name: str, oe: str | None = None) -> Response:
        found = core.media.get(name)
        if found is None:
            return Response("Not Found", status_code=404)
        if oe is not None:
            try:
                expires = datetime.fromtimestamp(int(oe, 16), UTC)
            except ValueError:
                return Response("Bad URL hash", status_code=403)
            if core.clock.now() >= expires:
                return Response("URL signature expired", status_code=403)
        data, content_type = found
        return Response(data, media_type=content_type)

    @app.post("/_emulator/faults", tags=["emulator"])
    async def faults(body: dict[str, Any] = Body(...)) -> dict[str, bool]:
        extra = {k: v for k, v in body.items() if k not in ("status", "count")}
        core.faults.add(int(body.get("status", 500)), int(body.get("count", 1)), **extra)
        return {"ok": True}
