"""A customer who writes their e-mail address in a private message has said how to
reach them: the address becomes their contact's e-mail.

This is what makes "take it to DM" continue by e-mail: the agent asks in the DM for an
address, the customer answers "it's ann@example.org", and the e-mail Ann sends later
joins the same contact (``pipeline/identities.py`` matches new e-mail senders by the
contact's address) and, within the threading window, the same ticket.

Only private messages count (an address posted in public may be anyone's, and is often
a scam), only for a contact that has no address yet, only when the message names exactly
one address, and never an address another contact of the workspace already has: that
is a merge for an agent to decide, not something to guess.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, func, select, update

from socialdesk.channels.networks import answers_by_email
from socialdesk.domain.enums import Direction, TicketEventKind, Visibility
from socialdesk.pipeline.ingest import BatchContext, PlacedMessage
from socialdesk.pipeline.ticket_state import PendingEvent
from socialdesk.store.models import Contact
from socialdesk.store.models.base import table_of

_contacts = table_of(Contact)
_ADDRESS = re.compile(
    r"(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w-])"
)
# Networks whose messages already carry the sender's address, or where none is stated.


def stated_email(text: str) -> str | None:
    """The one e-mail address in ``text``, lower-cased; None for none or several."""
    found = {match.group(0).lower() for match in _ADDRESS.finditer(text)}
    return found.pop() if len(found) == 1 else None


class StatedEmailStep:
    name = "stated_email"

    def apply(self, conn: Connection, batch: BatchContext) -> None:
        stated: dict[int, tuple[str, PlacedMessage]] = {}
        for placed in batch.placed:
            message = placed.source
            if (
                placed.contact_id is None
                or message.direction is not Direction.INBOUND
                or message.visibility is not Visibility.PRIVATE
                or answers_by_email(message.platform)
            ):
                continue
            address = stated_email(message.body)
            if address is not None:
                stated[placed.contact_id] = (address, placed)  # the latest in the batch wins
        if not stated:
            return
        without_address = conn.execute(
            select(_contacts.c.id, _contacts.c.workspace_id).where(
                _contacts.c.id.in_(list(stated)), _contacts.c.email.is_(None)
            )
        ).all()
        for contact_id, workspace_id in without_address:
            address, placed = stated[contact_id]
            taken = conn.scalar(
                select(_contacts.c.id).where(
                    _contacts.c.workspace_id == workspace_id,
                    func.lower(_contacts.c.email) == address,
                    _contacts.c.merged_into_id.is_(None),
                )
            )
            if taken is not None:
                continue
            conn.execute(
                update(_contacts).where(_contacts.c.id == contact_id).values(email=address)
            )
            placed.ticket.events.append(
                PendingEvent(
                    kind=TicketEventKind.CONTACT_EMAIL_NOTED,
                    created_at=placed.source.created_at,
                    actor="customer",
                    data={"email": address, "message_id": placed.id},
                )
            )
