"""The agent inbox: server-rendered pages (Jinja2 + HTMX), live updates over SSE."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from socialdesk.web.live_stream import router as live_router
from socialdesk.web.pages.account import router as account_router
from socialdesk.web.pages.approvals import router as approvals_router
from socialdesk.web.pages.attachments import router as attachments_router
from socialdesk.web.pages.auth import router as auth_router
from socialdesk.web.pages.common import WEB_DIR, PageError, is_htmx, networks_css, render
from socialdesk.web.pages.conversation import router as conversation_router
from socialdesk.web.pages.digest import router as digest_router
from socialdesk.web.pages.help_centre import router as help_router
from socialdesk.web.pages.inbox import router as inbox_router
from socialdesk.web.pages.incidents import router as incidents_router
from socialdesk.web.pages.listening import router as listening_router
from socialdesk.web.pages.live_queue import router as queue_router
from socialdesk.web.pages.logged_contacts import router as logged_contacts_router
from socialdesk.web.pages.moderation import router as moderation_router
from socialdesk.web.pages.notifications import router as notifications_router
from socialdesk.web.pages.peer_answers import router as peer_answers_router
from socialdesk.web.pages.reports import router as reports_router
from socialdesk.web.pages.saved_filters import router as saved_filters_router
from socialdesk.web.pages.settings import router as settings_router
from socialdesk.web.pages.staffing import router as staffing_router
from socialdesk.web.pages.suggestions import router as suggestions_router
from socialdesk.web.sessions import CsrfRefused, LoginRequired

TITLES = {400: "Bad request", 403: "Not allowed", 404: "Not found", 409: "Conflict"}


def install(app: FastAPI) -> None:
    # Before the static mount, which would answer 404 for it.
    app.add_api_route("/static/networks.css", networks_css, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    for router in (
        auth_router,
        account_router,
        inbox_router,
        saved_filters_router,
        logged_contacts_router,
        conversation_router,
        moderation_router,
        peer_answers_router,
        approvals_router,
        queue_router,
        staffing_router,
        digest_router,
        reports_router,
        notifications_router,
        settings_router,
        live_router,
        help_router,
        suggestions_router,
        listening_router,
        attachments_router,
        incidents_router,
    ):
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _: LoginRequired) -> Response:
        if is_htmx(request) or request.url.path.startswith("/live"):
            return HTMLResponse("Signed out; reload the page.", status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _: CsrfRefused) -> Response:
        return _error(request, 403, "This request lacked a valid CSRF token; reload the page.")

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        return _error(request, exc.status_code, exc.message)


def _error(request: Request, status_code: int, message: str) -> Response:
    if is_htmx(request):
        return HTMLResponse(
            f'<p class="error" role="alert">{_escape(message)}</p>', status_code=status_code
        )
    user = getattr(request.state, "web_user", None)
    return render(
        request,
        "error.html",
        user,
        status_code=status_code,
        title=TITLES.get(status_code, "Error"),
        message=message,
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
