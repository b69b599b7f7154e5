"""In-memory ticket state for one pipeline batch, and how a message changes it.

``apply_message`` is pure: it takes the state and a message and returns the ticket
events the change produced, so the rules (reopen, acknowledge, first response) have
table-driven tests without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from socialdesk.domain.enums import Direction, TicketEventKind, TicketStatus
from socialdesk.domain.gratitude import content_beyond_thanks, is_gratitude_only

# Ticket columns the pipeline (and its steps) may change on an existing ticket.
MUTABLE_COLUMNS = (
    "contact_id",
    "subject",
    "status",
    "priority",
    "assignee_id",
    "team_id",
    "needs_reply",
    "awaiting_since",
    "message_count",
    "first_message_at",
    "last_message_at",
    "last_inbound_at",
    "last_outbound_at",
    "first_response_at",
    "solved_at",
    "sentiment",
    "sentiment_label",
    "intent",
    "urgency",
    "language",
    "topic",
    "sla_policy_id",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "sla_breached",
)


@dataclass(slots=True)
class PendingEvent:
    kind: TicketEventKind
    created_at: datetime
    actor: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class TicketState:
    id: int | None
    workspace_id: int
    channel_account_id: int | None
    platform: str
    first_message_at: datetime
    last_message_at: datetime
    contact_id: int | None = None
    subject: str = ""
    status: str = TicketStatus.NEW
    priority: str = "normal"
    assignee_id: int | None = None
    team_id: int | None = None
    needs_reply: bool = True
    awaiting_since: datetime | None = None
    message_count: int = 0
    last_inbound_at: datetime | None = None
    last_outbound_at: datetime | None = None
    first_response_at: datetime | None = None
    solved_at: datetime | None = None
    follow_up_of_id: int | None = None
    sentiment: float | None = None
    sentiment_label: str | None = None
    intent: str | None = None
    urgency: int | None = None
    language: str | None = None
    topic: str | None = None
    sla_policy_id: int | None = None
    first_response_due_at: datetime | None = None
    next_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    sla_breached: bool = False
    # Read only here: labels an agent set by hand, which the triage step leaves alone.
    triage_manual: dict[str, Any] | None = None
    events: list[PendingEvent] = field(default_factory=list)
    dirty: bool = False

    @property
    def is_new(self) -> bool:
        return self.id is None

    def column_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in MUTABLE_COLUMNS}


def subject_from(body: str, subject: str | None = None) -> str:
    """The line an agent scans in the inbox: the e-mail subject or the first line."""
    if subject and subject.strip():
        return subject.strip()[:300]
    first_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return first_line[:300]


def apply_message(
    ticket: TicketState,
    *,
    direction: Direction,
    created_at: datetime,
    body: str,
    message_ref: str,
    contact_id: int | None = None,
    carries_content: bool = False,
) -> None:
    """Fold one new message into the ticket, appending the events it causes.

    ``carries_content``: the message has an attachment that is more than a reaction (a
    photo, a file; not a sticker), so a "thanks!" beside it is not only thanks.

    A message older than the newest one already on the ticket (an out-of-order
    delivery) only extends the history: it cannot change who is waiting on whom.
    """
    ticket.dirty = True
    ticket.message_count += 1
    is_newest = created_at >= ticket.last_message_at or ticket.message_count == 1
    ticket.first_message_at = min(ticket.first_message_at, created_at)
    ticket.last_message_at = max(ticket.last_message_at, created_at)
    if ticket.contact_id is None and contact_id is not None:
        ticket.contact_id = contact_id

    if direction == Direction.INBOUND:
        ticket.last_inbound_at = max(filter(None, (ticket.last_inbound_at, created_at)))
        ticket.events.append(
            PendingEvent(
                TicketEventKind.MESSAGE_RECEIVED, created_at, "customer", {"message": message_ref}
            )
        )
        if is_newest:
            _customer_wrote(ticket, created_at, body, carries_content)
        return

    ticket.last_outbound_at = max(filter(None, (ticket.last_outbound_at, created_at)))
    waited = (
        (created_at - ticket.awaiting_since).total_seconds()
        if ticket.awaiting_since and created_at >= ticket.awaiting_since
        else None
    )
    ticket.events.append(
        PendingEvent(
            TicketEventKind.REPLIED,
            created_at,
            "brand",
            {
                "message": message_ref,
                "response_seconds": waited,
                "first": ticket.first_response_at is None,
            },
        )
    )
    if ticket.first_response_at is None or created_at < ticket.first_response_at:
        ticket.first_response_at = created_at
    if is_newest:
        ticket.needs_reply = False
        ticket.awaiting_since = None
        if ticket.status in (TicketStatus.NEW, TicketStatus.OPEN):
            _set_status(ticket, TicketStatus.PENDING, created_at, "brand")


def _customer_wrote(
    ticket: TicketState, created_at: datetime, body: str, carries_content: bool = False
) -> None:
    # A bare "thanks!" after our answer (waiting on the customer, or solved) closes the
    # loop; it must not put the ticket back in the queue as needing a reply.
    answered = (
        ticket.status in (TicketStatus.PENDING, TicketStatus.SOLVED) and not ticket.needs_reply
    )
    if answered and not carries_content and is_gratitude_only(body):
        # Mark the message itself too, so no step starts a response clock for it.
        if ticket.events and ticket.events[-1].kind == TicketEventKind.MESSAGE_RECEIVED:
            ticket.events[-1].data["acknowledgement"] = True
        ticket.events.append(
            PendingEvent(TicketEventKind.CUSTOMER_ACKNOWLEDGED, created_at, "customer")
        )
        return
    # Why a thank-you still reopened ("an e-mail address"): shown in the ticket's history.
    reason = content_beyond_thanks(body) if answered else None
    if answered and carries_content and reason is None and is_gratitude_only(body):
        reason = "an attachment"
    why = {"reason": reason} if reason else {}
    if ticket.status == TicketStatus.SOLVED:
        ticket.events.append(
            PendingEvent(
                TicketEventKind.REOPENED, created_at, "customer", {"from": ticket.status, **why}
            )
        )
        ticket.status = TicketStatus.OPEN
        ticket.solved_at = None
    elif ticket.status in (TicketStatus.PENDING, TicketStatus.ON_HOLD):
        _set_status(ticket, TicketStatus.OPEN, created_at, "customer", why)
    if not ticket.needs_reply or ticket.awaiting_since is None:
        ticket.awaiting_since = created_at
    ticket.needs_reply = True


def _set_status(
    ticket: TicketState,
    status: TicketStatus,
    at: datetime,
    actor: str,
    extra: dict[str, Any] | None = None,
) -> None:
    if ticket.status == status:
        return
    ticket.events.append(
        PendingEvent(
            TicketEventKind.STATUS_CHANGED,
            at,
            actor,
            {"from": ticket.status, "to": str(status), **(extra or {})},
        )
    )
    ticket.status = status
