"""Serve an ASGI app on 127.0.0.1 in a background thread, on a port the OS picks (or
one given: ``socialdesk worker --metrics-port``).

    with serve_app(create_app(settings, db)) as base_url:
        httpx.get(f"{base_url}/healthz")

Real HTTP over loopback, so clients exercise their actual transport. Used by tests,
emulators and benchmarks; lifespan events run when the app has them (the web app's
background workers start and stop with the server).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


class BackgroundServer:
    """A uvicorn server bound to a socket we opened, running in its own thread."""

    def __init__(
        self, app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
    ) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level=log_level,
            access_log=False,
            lifespan="auto",
            ws="none",
            # The app decides whose X-Forwarded-For to believe (SOCIALDESK_TRUSTED_PROXIES).
            proxy_headers=False,
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
