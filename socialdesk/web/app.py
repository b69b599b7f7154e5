"""The ASGI application: REST API, webhooks and (later) the agent inbox."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from sqlalchemy import text

from socialdesk import __version__
from socialdesk.config import Settings, get_settings
from socialdesk.store.db import Database
from socialdesk.web.api import auth, channel_accounts, contacts, people, tickets
from socialdesk.web.errors import install_error_handlers


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="socialdesk",
        version=__version__,
        description="Social customer service desk: X, Meta, Mastodon, Bluesky and e-mail.",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.database_url)
    install_error_handlers(app)

    api = APIRouter(prefix="/api/v1")
    for module in (auth, tickets, contacts, channel_accounts, people):
        api.include_router(module.router)
    app.include_router(api)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        with app.state.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    return app
