"""Vocabulary shared by every layer. Values are stored in the database as strings."""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    X = "x"
    FACEBOOK = "facebook"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    EMAIL = "email"
    WEB = "web"


def register_platform(name: str, value: str) -> Platform:
    """Add a network to ``Platform`` at run time, as a network's descriptor does when it
    is registered (``channels/networks.py``); the existing member if already there.

    The built-in names stay class attributes for the code that names them; a network
    added later is reached through the member this returns, ``Platform(value)`` or the
    registry. Values are stored as strings, so no migration is needed."""
    if not value or value != value.lower() or not name.isidentifier():
        raise ValueError(f"not a platform name/value: {name!r}={value!r}")
    existing = Platform._value2member_map_.get(value)
    if existing is not None:
        return Platform(value)
    if name in Platform._member_map_:
        raise ValueError(f"platform name {name} is taken by another value")
    # StrEnum cannot be subclassed or extended by the language; these are the tables
    # EnumType itself fills when the class is created (stable since Python 3.11).
    member = str.__new__(Platform, value)
    member._name_ = name
    member._value_ = value
    Platform._member_map_[name] = member
    Platform._value2member_map_[value] = member
    Platform._member_names_.append(name)
    type.__setattr__(Platform, name, member)
    return member


class LoggedChannel(StrEnum):
    """Contacts that reach the desk off-line (a call, a visit) and are logged by the agent
    who handled them: tickets of their own channel, never a network to send through."""

    PHONE = "phone"
    WALK_IN = "walk_in"
    OTHER = "other"


LOGGED_CHANNEL_LABELS: dict[str, str] = {
    LoggedChannel.PHONE: "Phone",
    LoggedChannel.WALK_IN: "Walk-in",
    LoggedChannel.OTHER: "Other contact",
}


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"


# What people read: never the stored names ("on_hold").
STATUS_LABELS: dict[str, str] = {
    TicketStatus.NEW: "New",
    TicketStatus.OPEN: "Open",
    TicketStatus.PENDING: "Pending",
    TicketStatus.ON_HOLD: "On hold",
    TicketStatus.SOLVED: "Solved",
    TicketStatus.CLOSED: "Closed",
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


# Statuses in which a ticket still belongs in someone's queue.
UNSOLVED_STATUSES: frozenset[TicketStatus] = frozenset(
    {TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD}
)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_RANK: dict[Priority, int] = {
    Priority.LOW: 0,
    Priority.NORMAL: 1,
    Priority.HIGH: 2,
    Priority.URGENT: 3,
}


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class DeliveryState(StrEnum):
    """Life of an outbound message. Inbound messages and notes carry ``none``."""

    NONE = "none"
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Scheduled send: waits in the outbox until its time; cancelled ones never go out.
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Role(StrEnum):
    ADMIN = "admin"
    LEAD = "lead"
    AGENT = "agent"
    MARKETING = "marketing"
    VIEWER = "viewer"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"
    DISABLED = "disabled"


class RawEventStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"


class TicketEventKind(StrEnum):
    CREATED = "created"
    MESSAGE_RECEIVED = "message_received"
    REPLIED = "replied"
    NOTE_ADDED = "note_added"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    TEAM_CHANGED = "team_changed"
    STATUS_CHANGED = "status_changed"
    REOPENED = "reopened"
    CUSTOMER_ACKNOWLEDGED = "customer_acknowledged"
    PRIORITY_CHANGED = "priority_changed"
    TAGS_CHANGED = "tags_changed"
    # An agent corrected the triage (sentiment, intent, topic); the pipeline keeps it.
    TRIAGE_LABELLED = "triage_labelled"
    # The background encoder pass changed the inline sentiment or topic.
    TRIAGE_REFINED = "triage_refined"
    MERGED = "merged"
    # Another customer's public reply answered the ticket's customer (data: message, fan).
    PEER_ANSWERED = "peer_answered"
    MOVED_TO_PRIVATE = "moved_to_private"
    # The customer wrote their e-mail address in a DM; it became the contact's address.
    CONTACT_EMAIL_NOTED = "contact_email_noted"
    # The customer edited or removed a message already stored (data: previous text).
    MESSAGE_EDITED = "message_edited"
    MESSAGE_REMOVED = "message_removed"
    # An agent hid / unhid a customer's public comment on the network (data: message id).
    MESSAGE_HIDDEN = "message_hidden"
    MESSAGE_UNHIDDEN = "message_unhidden"
    REPLY_SCHEDULED = "reply_scheduled"
    SCHEDULED_REPLY_EDITED = "scheduled_reply_edited"
    SCHEDULED_REPLY_CANCELLED = "scheduled_reply_cancelled"
    # An agent sent a failed reply again (data: message id, the error it failed with).
    REPLY_RETRIED = "reply_retried"
    # Service levels (socialdesk/sla): one event per clock change, so reports can rebuild them.
    SLA_STARTED = "sla_started"
    SLA_PAUSED = "sla_paused"
    SLA_RESUMED = "sla_resumed"
    SLA_FULFILLED = "sla_fulfilled"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    # A priority change moved a running clock to the new target (data: old and new due).
    SLA_RETARGETED = "sla_retargeted"
    # Automation and follow-through (socialdesk/automation).
    RULE_FIRED = "rule_fired"
    AUTO_REPLIED = "auto_replied"
    NOTIFIED = "notified"
    ESCALATED = "escalated"
    FOLLOW_UP_SCHEDULED = "follow_up_scheduled"
    # A promise fell due unanswered: the ticket went back to the queue (data: follow-up).
    FOLLOW_UP_DUE = "follow_up_due"
    CSAT_RECORDED = "csat_recorded"
    # An agent logged a phone call, visit or other off-line contact (data: handle time).
    CONTACT_LOGGED = "contact_logged"
    # "Does it work now?" after solving: asked once, then answered (csat_recorded) or not.
    CSAT_ASKED = "csat_asked"
    CSAT_UNANSWERED = "csat_unanswered"
