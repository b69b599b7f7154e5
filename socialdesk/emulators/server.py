"""Loopback serving for emulators (``serve_app`` lives in ``socialdesk.loopback``).

``WebhookRecorder`` is a tiny ASGI receiver for webhook tests: it records every request
and answers with queued statuses or whatever a handler returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from socialdesk.loopback import BackgroundServer, serve_app

__all__ = ["BackgroundServer", "RecordedRequest", "WebhookRecorder", "serve_app"]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lowercased names
    body: bytes


# A handler returns (status, content type, body), or None for the default answer.
Reply = tuple[int, str, bytes]


@dataclass
class WebhookRecorder:
    """An ASGI app that records requests. POSTs are answered with the next status of
    ``statuses`` (200 once it is empty) unless ``handler`` returns a reply."""

    handler: Callable[[RecordedRequest], Reply | None] | None = None
    statuses: list[int] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = RecordedRequest(
            method=scope["method"],
            path=scope["path"],
            query=dict(parse_qsl(scope.get("query_string", b"").decode())),
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body=body,
        )
        self.requests.append(request)
        reply = self.handler(request) if self.handler else None
        if reply is None:
            status = self.statuses.pop(0) if self.statuses and request.method == "POST" else 200
            reply = (status, "text/plain", b"ok")
        status, content_type, content = reply
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(content)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def posts(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST"]

    def wait_for_posts(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``count`` POSTs arrived (TimeoutError otherwise)."""
        deadline = time.monotonic() + timeout
        while len(self.posts()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} POSTs, got {len(self.posts())}")
            time.sleep(0.005)
        return self.posts()
