"""Serving the web app on loopback: in this process (``serve``) or as a child process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from socialdesk.loopback import serve_app

# The in-process server for tests and benchmarks is the shared loopback helper.
serve = serve_app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_in_subprocess(
    database_url: str,
    settings: Any,
    *,
    separate_worker: bool = False,
    server_pid: list[int] | None = None,
) -> Iterator[str]:
    """``socialdesk serve`` in a child process with these settings (for benchmarks);
    with ``separate_worker``, the workers run in a second process, as in a scaled install.
    ``server_pid``, when given, receives the web server's process id (to read its memory)."""
    port = _free_port()
    env = {**os.environ, "SOCIALDESK_DATABASE_URL": database_url}
    for name, value in settings.model_dump().items():
        if value is not None and name != "database_url":
            env[f"SOCIALDESK_{name.upper()}"] = str(value)
    children: list[subprocess.Popen[bytes]] = []
    if separate_worker:
        env["SOCIALDESK_RUN_WORKERS"] = "false"
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "socialdesk.cli", "worker"],
                env=env,
                stdout=subprocess.DEVNULL,
            )
        )
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "socialdesk.web.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-proxy-headers",
        ],
        env=env,
    )
    children.append(server)
    if server_pid is not None:
        server_pid.append(server.pid)
    try:
        deadline = time.monotonic() + 120  # a busy machine imports slowly
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server process did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        for child in reversed(children):
            child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
