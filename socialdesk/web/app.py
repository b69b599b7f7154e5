"""The ASGI application: REST API, webhooks and (later) the agent inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from socialdesk import __version__
from socialdesk.actions.admin import secrets_loader, secrets_saver
from socialdesk.automation.periodic_scan import SlaScanWorker
from socialdesk.automation.triage_refine import TriageRefineWorker
from socialdesk.channels.networks import webhook_specs
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.config import Settings, get_settings
from socialdesk.delivery.worker import DeliveryWorker
from socialdesk.listening.poller import ListeningPoller
from socialdesk.live import LiveRelay
from socialdesk.notify.mailer import SmtpConfig
from socialdesk.notify.worker import NotificationWorker
from socialdesk.observability.logs import configure_logging
from socialdesk.pipeline.attachment_fetch import AttachmentFetchWorker, FetchPolicy
from socialdesk.pipeline.polling import POLL_PARSERS, PollScheduler
from socialdesk.pipeline.webhook_processing import RawEventWorker
from socialdesk.radar.worker import RadarWorker
from socialdesk.reports.worker import ReportsWorker
from socialdesk.store.db import Database
from socialdesk.store.file_storage import storage_from_settings
from socialdesk.web import hooks, ops, pages, security_headers, webform
from socialdesk.web.api import (
    approvals,
    auth,
    canned,
    channel_accounts,
    contacts,
    email_settings,
    faq,
    kb,
    moderation,
    people,
    reports,
    saved_filters,
    service_levels,
    suggestions,
    tickets,
    triage_topics,
)
from socialdesk.web.api import attachments as attachments_api
from socialdesk.web.api import incidents as incidents_api
from socialdesk.web.api import listening as listening_api
from socialdesk.web.api import notify_outbox as notify_api
from socialdesk.web.api import peer_answers as peer_answers_api
from socialdesk.web.api import raw_events as raw_events_api
from socialdesk.web.api import uploads as uploads_api
from socialdesk.web.api_docs import install_api_docs
from socialdesk.web.client_address import parse_networks
from socialdesk.web.errors import install_error_handlers
from socialdesk.web.limits import UPLOAD_PATHS, BodyLimits
from socialdesk.web.raw_inbox import RawInbox
from socialdesk.wiring.pipeline import build_pipeline

# Signature first, on the raw bytes: web/hooks.py applies its own size and depth limits.
SIGNED_HOOKS = frozenset(spec.route for spec in webhook_specs())


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # With run_workers off, a separate `socialdesk worker` process does this work;
        # the relay still brings its live events to this server's pages.
        relay = [app.state.live_relay] if settings.live_relay_seconds > 0 else []
        workers = relay + (
            [
                app.state.raw_event_worker,
                app.state.delivery_worker,
                app.state.poller,
                app.state.listening_poller,
                app.state.sla_worker,
                app.state.notify_worker,
                *([app.state.attachment_fetch_worker] if settings.attachment_fetch else []),
                *([app.state.triage_worker] if settings.triage_encoder else []),
                app.state.reports_worker,
                *([app.state.radar_worker] if settings.radar_seconds > 0 else []),
            ]
            if settings.run_workers
            else []
        )
        for worker in workers:
            worker.start()
        yield
        for worker in reversed(workers):
            worker.stop()
        await app.state.moderation_connectors.aclose()

    app = FastAPI(
        lifespan=lifespan,
        title="socialdesk",
        version=__version__,
        description="Social customer service desk: X, Meta, WhatsApp, Mastodon, Bluesky, e-mail.",
        openapi_url="/openapi.json",
        docs_url=None,  # /docs and /redoc from local files: web/api_docs.py
        redoc_url=None,
    )
    install_api_docs(app)
    app.state.settings = settings
    app.state.db = db or Database(settings.database_url)
    install_error_handlers(app)
    app.add_middleware(
        BodyLimits,
        max_bytes=lambda: settings.max_request_body_bytes,
        exempt_paths=SIGNED_HOOKS,
        # An image upload (the API's, the composer's reply form): the upload limit plus
        # room for the multipart framing and the form's other fields.
        larger=(UPLOAD_PATHS, lambda: settings.reply_upload_max_bytes + 64_000),
    )
    # Operations (web/ops.py): /healthz, /readyz, /metrics, X-Request-ID and the ids on
    # every log line; before the routers, whose routes take its path-id dependency.
    if settings.log_format == "json":
        configure_logging("json", settings.log_level)
    ops.install(app, app.state.db)
    # Each network's webhook signature check and parser, from its descriptor.
    specs = webhook_specs()
    app.state.webhook_receivers = {spec.path: spec.receiver(settings) for spec in specs}
    app.state.pipeline = build_pipeline(settings)
    app.state.raw_event_worker = RawEventWorker(
        app.state.db,
        app.state.pipeline,
        {
            **{s.source: app.state.webhook_receivers[s.path].parse_webhook for s in specs},
            # Polled posts left pending by a crash, a transient error or a retry.
            **POLL_PARSERS,
        },
    )

    # One registry per event loop (an HTTP client belongs to the loop it was made on);
    # tokens one of them obtains are stored, so the others and the next start reuse them.
    def registry() -> ConnectorRegistry:
        return ConnectorRegistry(
            settings,
            save_secrets=secrets_saver(app.state.db),
            load_secrets=secrets_loader(app.state.db),
        )

    app.state.attachment_storage = storage_from_settings(settings)
    app.state.delivery_worker = DeliveryWorker(
        app.state.db, registry(), storage=app.state.attachment_storage
    )
    # Hide/unhide calls made by API and page requests, on the server's event loop.
    app.state.moderation_connectors = registry()
    app.state.poller = PollScheduler(app.state.db, app.state.pipeline, registry())
    app.state.listening_poller = ListeningPoller(app.state.db, app.state.pipeline, registry())
    app.state.sla_worker = SlaScanWorker(app.state.db, settings.sla_scan_seconds)
    app.state.triage_worker = TriageRefineWorker(app.state.db)
    app.state.reports_worker = ReportsWorker(app.state.db, settings.reports_worker_seconds)
    app.state.radar_worker = RadarWorker(app.state.db, settings.radar_seconds or 60.0)
    app.state.notify_worker = NotificationWorker(app.state.db, SmtpConfig.from_settings(settings))
    app.state.attachment_fetch_worker = AttachmentFetchWorker(
        app.state.db,
        app.state.attachment_storage,
        FetchPolicy(
            max_bytes=settings.attachment_max_bytes,
            private_hosts=settings.attachment_fetch_private_hosts,
        ),
    )
    app.state.raw_inbox = RawInbox(app.state.db)
    app.state.live_relay = LiveRelay(app.state.db, interval=settings.live_relay_seconds or 0.5)
    app.include_router(hooks.router)
    app.include_router(webform.router)

    api = APIRouter(prefix="/api/v1")
    for module in (
        auth,
        tickets,
        suggestions,
        contacts,
        channel_accounts,
        people,
        service_levels,
        saved_filters,
        canned,
        email_settings,
        kb,
        faq,
        moderation,
        approvals,
        raw_events_api,
        reports,
        listening_api,
        attachments_api,
        triage_topics,
        uploads_api,
        peer_answers_api,
        incidents_api,
    ):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(notify_api.router, prefix="/api/v1")
    pages.install(app)
    # Security headers (CSP, framing, nosniff, referrer, no-store): web/security_headers.py.
    security_headers.install(app, webform.render_thanks("", None))
    parse_networks(settings.trusted_proxies)  # a mistyped SOCIALDESK_TRUSTED_PROXIES fails here

    return app
