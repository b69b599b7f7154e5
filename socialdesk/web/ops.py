"""What operators and their tools call: ``/healthz``, ``/readyz``, ``/metrics``, and the
request context every log line carries (``X-Request-ID``, the ticket or account in the
path). ``install`` adds all of it to an app; ``create_ops_app`` is the same three
endpoints alone, for a ``socialdesk worker`` process (``--metrics-port``).

Who may read ``/metrics`` (docs/operations.md): a peer address in
``SOCIALDESK_METRICS_ALLOW`` (loopback by default) and, when ``SOCIALDESK_METRICS_TOKEN``
is set, only with ``Authorization: Bearer <token>``. Without a token, a request that came
through a reverse proxy (``X-Forwarded-For``/``Forwarded``) is refused even from
loopback: a proxy on the same host makes every visitor look local.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import REGISTRY
from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from socialdesk import __version__
from socialdesk.background import _WorkerThread
from socialdesk.config import Settings
from socialdesk.live import bus
from socialdesk.observability.gauges import DatabaseCollector
from socialdesk.observability.health import check_readiness
from socialdesk.observability.logs import (
    ACCESS_LOGGER,
    bind_log_context,
    log_context,
    request_id_from,
)
from socialdesk.store.db import Database
from socialdesk.web.errors import error_response

access_log = logging.getLogger(ACCESS_LOGGER)
router = APIRouter(tags=["operations"])
# The app.state attributes that hold background workers (those started are checked).
WORKER_ATTRIBUTES = (
    "raw_event_worker",
    "delivery_worker",
    "poller",
    "sla_worker",
    "notify_worker",
    "attachment_fetch_worker",
    "reports_worker",
    "radar_worker",
    "live_relay",
)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> list[Network]:
    """``"127.0.0.1, 10.0.0.0/8"`` → networks; a bad entry raises ValueError."""
    parts = filter(None, (part.strip() for part in text.split(",")))
    return [ipaddress.ip_network(part, strict=False) for part in parts]


def metrics_refusal(
    peer: str | None,
    forwarded: bool,
    authorization: str | None,
    token: str | None,
    allowed: Sequence[Network],
) -> tuple[int, str] | None:
    """Why a /metrics request is refused (status, reason), or None to serve it."""
    if token:
        scheme, _, supplied = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            supplied.strip().encode(), token.encode()
        ):
            return 401, "metrics need Authorization: Bearer <SOCIALDESK_METRICS_TOKEN>"
    elif forwarded:
        return 403, "metrics are not served through a proxy without SOCIALDESK_METRICS_TOKEN"
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:
        return 403, "metrics are served to the addresses in SOCIALDESK_METRICS_ALLOW only"
    if not any(address in network for network in allowed):
        return 403, "metrics are served to the addresses in SOCIALDESK_METRICS_ALLOW only"
    return None


class _Scrape(Collector):
    """This process's counters plus the gauges read for this app's database."""

    def __init__(self, *collectors: Collector) -> None:
        self.collectors = collectors

    def collect(self) -> Iterable[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def _workers(state: Any) -> list[_WorkerThread]:
    found = (getattr(state, name, None) for name in WORKER_ATTRIBUTES)
    return [
        w for w in found if isinstance(w, _WorkerThread) and w.seconds_since_last_pass() is not None
    ]


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers (no database call)."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Readiness: database round trip, schema at head, this process's workers passing."""
    result = check_readiness(request.app.state.db, request.app.state.ops_workers())
    return JSONResponse(result.as_json(), status_code=200 if result.ready else 503)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    headers = request.headers
    refusal = metrics_refusal(
        request.client.host if request.client else None,
        "x-forwarded-for" in headers or "forwarded" in headers,
        headers.get("authorization"),
        token,
        request.app.state.metrics_networks,
    )
    if refusal is not None:
        return error_response(*refusal)
    # Prometheus text format 0.0.4, or OpenMetrics when the scraper asks for it.
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    body = encode(_Scrape(REGISTRY, request.app.state.metrics_collector))
    return Response(body, headers={"content-type": content_type})


async def bind_path_ids(request: Request) -> None:
    """A route with a ticket or channel account in its path puts it on every log line
    of the request (async: it must run in the request's own context)."""
    params = request.path_params
    for param, field in (("ticket_id", "ticket_id"), ("account_id", "account_id")):
        value = params.get(param)
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            bind_log_context(**{field: int(value)})


class RequestContextMiddleware:
    """One log scope per request: its id (``X-Request-ID`` in, or a new one; echoed on
    the response) and, in JSON logging, one access line when it ends. Plain ASGI, so
    streamed responses (the live SSE stream) pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
        request_id = request_id_from(incoming)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        with log_context(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                if access_log.isEnabledFor(logging.INFO):
                    access_log.info(
                        "%s %s %s",
                        scope.get("method"),
                        scope.get("path"),  # never the query string: it may hold tokens
                        status,
                        extra={
                            "method": scope.get("method"),
                            "path": scope.get("path"),
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        },
                    )


def install(
    app: FastAPI, db: Database, workers: Callable[[], Sequence[_WorkerThread]] | None = None
) -> None:
    """The three endpoints, the request scope and the path ids, on ``app``. Call it
    before the routers are included: the path-id dependency applies to routes added
    after it."""
    state = app.state
    state.metrics_networks = parse_networks(state.settings.metrics_allow)
    state.ops_workers = workers or (lambda: _workers(state))
    state.metrics_collector = DatabaseCollector(
        db, state.ops_workers, live_subscribers=bus.subscriber_count
    )
    app.router.dependencies.append(Depends(bind_path_ids))
    app.add_middleware(RequestContextMiddleware)
    app.include_router(router)


def create_ops_app(
    settings: Settings, db: Database, workers: Callable[[], Sequence[_WorkerThread]]
) -> FastAPI:
    """``/healthz``, ``/readyz`` and ``/metrics`` for a process that serves nothing else."""
    app = FastAPI(title="socialdesk worker", version=__version__, openapi_url=None)
    app.state.settings = settings
    app.state.db = db
    install(app, db, workers)
    return app
