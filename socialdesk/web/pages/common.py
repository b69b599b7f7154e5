"""What every page shares: the Jinja2 environment, filters, loading a ticket, errors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError
from socialdesk.channels.networks import all_networks
from socialdesk.domain.attachments import attachment_expired
from socialdesk.domain.attachments import label as attachment_label
from socialdesk.domain.enums import LOGGED_CHANNEL_LABELS, status_label
from socialdesk.domain.time_zones import format_stamp
from socialdesk.store.db import utcnow
from socialdesk.store.models import Ticket
from socialdesk.web.sessions import WebUser

WEB_DIR = Path(__file__).resolve().parents[1]
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))

# platform: (short glyph shown in the icon, accessible name), from the registry.
NETWORK_LABELS: dict[str, tuple[str, str]] = (
    {d.name: (d.icon.glyph, d.label) for d in all_networks()}
    | {  # contacts agents log by hand (actions/logged_contacts.py): no network behind them
        channel: (label[:2], label) for channel, label in LOGGED_CHANNEL_LABELS.items()
    }
)


def networks_css() -> Response:
    """Each network's badge colour (``.net-<name>``) from its descriptor's icon: a
    stylesheet, because the page's CSP allows no inline styles."""
    rules = "\n".join(
        [f".net-{d.name} {{ background: {d.icon.color}; }}" for d in all_networks()]
        + [f".net-{channel} {{ background: #5f6b7a; }}" for channel in LOGGED_CHANNEL_LABELS]
    )
    return Response(rules + "\n", media_type="text/css", headers={"cache-control": "max-age=3600"})


WRITER_ROLES = frozenset({"admin", "lead", "agent", "marketing"})


class PageError(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def waiting(since: datetime | None, now: datetime | None = None) -> str:
    """'3m', '5h', '2d' since a moment; '' when nobody is waiting."""
    if since is None:
        return ""
    seconds = max(0, int(((now or utcnow()) - since).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400 * 2:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def reach(followers: int | None) -> str:
    if followers is None:
        return ""
    if followers >= 1_000_000:
        return f"{followers / 1_000_000:.1f}M"
    if followers >= 10_000:
        return f"{followers // 1000}k"
    if followers >= 1000:
        return f"{followers / 1000:.1f}k"
    return str(followers)


@pass_context
def stamp(context: Context, moment: datetime | None) -> str:
    """A moment in the signed-in person's time zone (UTC before sign-in)."""
    user = context.get("user")
    return format_stamp(moment, user.time_zone if user else None)


def network(platform: str | None) -> tuple[str, str]:
    return NETWORK_LABELS.get(platform or "", ("?", platform or "unknown"))


templates.env.filters["waiting"] = waiting
templates.env.filters["reach"] = reach
templates.env.filters["stamp"] = stamp
templates.env.filters["status_label"] = status_label
templates.env.globals["network"] = network
templates.env.globals["attachment_label"] = attachment_label
templates.env.globals["attachment_expired"] = attachment_expired


def render(
    request: Request, name: str, user: WebUser | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    context.setdefault("csrf_token", user.csrf_token if user else "")
    return templates.TemplateResponse(
        request, name, {"user": user, **context}, status_code=status_code
    )


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def load_ticket(session: Session, user: WebUser, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.workspace_id not in user.workspace_ids:
        raise PageError(404, f"Ticket {ticket_id} was not found.")
    return ticket


def require_writer(user: WebUser) -> None:
    if user.role not in WRITER_ROLES:
        raise PageError(403, "Your role can read tickets but not change them.")


def action_error(exc: ActionError) -> PageError:
    return PageError(exc.status_code, exc.message)
