"""Run an ASGI app on 127.0.0.1 in a background thread, on a port the OS picks.

    with serve_app(create_x_emulator("secret")) as base_url:
        httpx.get(f"{base_url}/2/users/1/mentions")

Used by the emulators' own tests, by connector tests and by the demo: the server is
real HTTP over loopback, so clients exercise their actual transport.

``WebhookRecorder`` is a tiny ASGI receiver for webhook tests: it records every request
and answers with queued statuses or whatever a handler returns.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn


class BackgroundServer:
    """A uvicorn server bound to a socket we opened, running in its own thread."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", log_level: str = "warning") -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level=log_level,
            access_log=False,
            lifespan="auto",
            ws="none",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"asgi-{self.port}",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> str:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the server thread exited during startup")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"server on port {self.port} did not start")
            time.sleep(0.005)
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self._socket.close()


@contextmanager
def serve_app(app: Any, *, host: str = "127.0.0.1", log_level: str = "warning") -> Iterator[str]:
    """Serve ``app`` for the duration of the block and yield its base URL."""
    server = BackgroundServer(app, host=host, log_level=log_level)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


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
