"""A reply's network rules that hold before it is stored: the network's messaging
window (WhatsApp: free text only within 24 hours of the customer's last message) and
its approved message templates, both read from the network's descriptor."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError
from socialdesk.channels.descriptor import Absent
from socialdesk.channels.networks import find_descriptor
from socialdesk.domain.enums import Visibility
from socialdesk.store.db import utcnow
from socialdesk.store.models import ChannelAccount, Ticket


class OutsideMessagingWindow(ActionError):
    """The network accepts only an approved template now; the agent must choose one."""

    code = "outside_window"


class TemplateRefused(ActionError):
    """The chosen template cannot be used on this account (or network)."""

    code = "template_refused"


def check_reply_rules(
    session: Session,
    ticket: Ticket,
    account_id: int | None,
    body: str,
    *,
    visibility: Visibility,
    template: str | None,
    by_email: bool = False,
) -> tuple[str, dict[str, Any] | None]:
    """The text to store and the template to send it with (None: free text), or an
    ``ActionError`` (422) saying why the network would refuse this reply."""
    if by_email:
        if template:
            raise TemplateRefused("an e-mail reply has no message templates", 422)
        return body, None
    account = session.get(ChannelAccount, account_id) if account_id is not None else None
    descriptor = find_descriptor(account.platform if account else ticket.platform)
    if descriptor is None:
        return body, None
    chosen: dict[str, Any] | None = None
    if template:
        if isinstance(descriptor.templates, Absent) or account is None:
            raise TemplateRefused(
                f"{descriptor.label} has no message templates: send the reply without one", 422
            )
        filled = descriptor.templates.fill(account.settings, template, body)
        if isinstance(filled, str):
            raise TemplateRefused(filled, 422)
        found, body = filled
        chosen = {
            "name": found.name,
            "language": found.language,
            "parameters": list(found.parameters),
        }
    window = descriptor.messaging_window
    if not isinstance(window, Absent):
        reason = window.refuse_reply(
            ticket.last_inbound_at, utcnow(), visibility=visibility, template=template
        )
        if reason:
            names = (
                []
                if isinstance(descriptor.templates, Absent) or account is None
                else (descriptor.templates.names(account.settings))
            )
            raise OutsideMessagingWindow(reason, 422, details={"templates": names})
    return body, chosen
