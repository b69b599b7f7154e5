"""SQLAlchemy models, one module per area. Importing this package registers them all."""

from socialdesk.store.models.attachments import MessageAttachment, Upload
from socialdesk.store.models.audit import AuditEntry
from socialdesk.store.models.base import Base
from socialdesk.store.models.channels import ChannelAccount, RawEvent
from socialdesk.store.models.contacts import Contact, ContactIdentity
from socialdesk.store.models.inbox import (
    ApprovalDraft,
    AuthThrottle,
    CannedResponse,
    PostingRight,
    SavedFilter,
    WebSession,
)
from socialdesk.store.models.knowledge import Article, ArticleClicks, ArticleVersion
from socialdesk.store.models.listening import ListeningMention, ListeningSearch
from socialdesk.store.models.live import LiveFeedEntry, TicketPresence
from socialdesk.store.models.notify import NotificationOutboxEntry
from socialdesk.store.models.outbox import OutboxEntry
from socialdesk.store.models.peer_answers import PeerAnswer
from socialdesk.store.models.people import ApiToken, Membership, Team, TeamMember, User, Workspace
from socialdesk.store.models.radar import Incident, IncidentTicket, RadarPost, RadarState
from socialdesk.store.models.reports import ReportRollup, ReportRollupDay, ReportRollupState
from socialdesk.store.models.service_levels import (
    AutomationRule,
    CsatResponse,
    FollowUp,
    Notification,
    SlaClock,
    SlaPolicy,
    TeamRouting,
)
from socialdesk.store.models.ticket_counts import (
    FlaggedTicket,
    FlaggedTicketCount,
    TicketViewCount,
)
from socialdesk.store.models.tickets import Message, Ticket, TicketEvent, TicketTag

__all__ = [
    "ApiToken",
    "ApprovalDraft",
    "Article",
    "ArticleClicks",
    "ArticleVersion",
    "AuditEntry",
    "AuthThrottle",
    "AutomationRule",
    "Base",
    "CannedResponse",
    "ChannelAccount",
    "Contact",
    "ContactIdentity",
    "CsatResponse",
    "FlaggedTicket",
    "FlaggedTicketCount",
    "FollowUp",
    "Incident",
    "IncidentTicket",
    "ListeningMention",
    "ListeningSearch",
    "LiveFeedEntry",
    "Membership",
    "Message",
    "MessageAttachment",
    "Notification",
    "NotificationOutboxEntry",
    "OutboxEntry",
    "PeerAnswer",
    "PostingRight",
    "RadarPost",
    "RadarState",
    "RawEvent",
    "ReportRollup",
    "ReportRollupDay",
    "ReportRollupState",
    "SavedFilter",
    "SlaClock",
    "SlaPolicy",
    "Team",
    "TeamMember",
    "TeamRouting",
    "Ticket",
    "TicketEvent",
    "TicketPresence",
    "TicketTag",
    "TicketViewCount",
    "Upload",
    "User",
    "WebSession",
    "Workspace",
]
