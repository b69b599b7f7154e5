"""Serve an ASGI app on 127.0.0.1 for the length of a ``with`` block.

    with loopback(create_mastodon_app()) as base_url:
        httpx.get(f"{base_url}/api/v2/instance")

The port is chosen by the OS. The server runs in a daemon thread with its own event
loop, so tests talk to it over real HTTP exactly as the connectors talk to a network.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def loopback(app: Any, *, startup_timeout: float = 10.0) -> Iterator[str]:
    """Run ``app`` until the block ends and yield ``http://127.0.0.1:<port>``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"loopback-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the loopback server stopped during startup")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the loopback server on port {port} did not start")
            time.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(5)
        sock.close()
