"""Move a public conversation to a private channel without losing it.

The public line invites the customer to DM (or the DM goes out directly where the
network allows it); the DM, and a later e-mail from the same person, land in this
ticket because the pipeline matches the contact's open ticket.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, record_ticket_change
from socialdesk.actions.tickets import reply
from socialdesk.domain.enums import Platform, TicketEventKind, TicketStatus, Visibility
from socialdesk.store.models import Message, Ticket, User

# Short enough for every network's public limit, X's 280 included.
DEFAULT_INVITES: dict[str, str] = {
    str(Platform.X): "We'd like to help with this privately. Please send us a DM with the details "
    "and we'll pick it up there.",
    str(Platform.MASTODON): "We'd like to help with this privately. Please send us a direct "
    "message with the details and we'll pick it up there.",
    str(Platform.BLUESKY): "We'd like to help privately. Please write to us with the details "
    "and we'll pick it up there.",
}
FALLBACK_INVITE = (
    "We'd like to help with this privately. Please send us a private message with the details."
)
# Networks where we may open the private conversation ourselves (Bluesky: a convo
# opened with getConvoForMembers; the customer's privacy settings may still refuse it).
DIRECT_DM_PLATFORMS = frozenset(
    {Platform.X, Platform.MESSENGER, Platform.INSTAGRAM, Platform.MASTODON, Platform.BLUESKY}
)


def move_to_private(
    session: Session, ticket: Ticket, actor: User, *, mode: str, body: str | None = None
) -> Message:
    if mode not in ("invite", "dm"):
        raise ActionError("mode must be 'invite' (public line asking for a DM) or 'dm'", 422)
    if mode == "dm":
        if ticket.platform not in DIRECT_DM_PLATFORMS:
            raise ActionError(
                f"{ticket.platform} does not let us open a DM; use mode 'invite'", 422
            )
        if not body or not body.strip():
            raise ActionError("a direct message needs a body", 422)
        message = reply(
            session,
            ticket,
            actor,
            body,
            visibility=Visibility.PRIVATE,
            status_after=TicketStatus.PENDING,
        )
    else:
        text = (
            body.strip()
            if body and body.strip()
            else DEFAULT_INVITES.get(ticket.platform, FALLBACK_INVITE)
        )
        message = reply(
            session,
            ticket,
            actor,
            text,
            visibility=Visibility.PUBLIC,
            status_after=TicketStatus.PENDING,
        )
    record_ticket_change(
        session,
        ticket,
        actor,
        TicketEventKind.MOVED_TO_PRIVATE,
        {"mode": mode, "message_id": message.id},
    )
    return message
