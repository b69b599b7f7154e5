"""SQLAlchemy models, one module per area. Importing this package registers them all."""

from socialdesk.store.models.audit import AuditEntry
from socialdesk.store.models.base import Base
from socialdesk.store.models.channels import ChannelAccount, RawEvent
from socialdesk.store.models.contacts import Contact, ContactIdentity
from socialdesk.store.models.outbox import OutboxEntry
from socialdesk.store.models.people import ApiToken, Membership, Team, TeamMember, User, Workspace
from socialdesk.store.models.tickets import Message, Ticket, TicketEvent, TicketTag

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "ChannelAccount",
    "Contact",
    "ContactIdentity",
    "Membership",
    "Message",
    "OutboxEntry",
    "RawEvent",
    "Team",
    "TeamMember",
    "Ticket",
    "TicketEvent",
    "TicketTag",
    "User",
    "Workspace",
]
