"""The facts a write announces. Each carries the session so listeners act in the same
transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from socialdesk.store.models import Message, Ticket, User


@dataclass(frozen=True)
class AgentReplied:
    """A reply became the ticket's answer (sent at once, or a scheduled one that went
    out). ``actor`` is None for the system."""

    session: Session
    ticket: Ticket
    actor: User | None
    message: Message
    at: datetime


@dataclass(frozen=True)
class StatusChanged:
    """``by_rule`` marks a change an automation rule made while it ran: clocks follow
    it, but rules are not run again on their own change."""

    session: Session
    ticket: Ticket
    actor: User | None
    previous: str
    new: str
    at: datetime
    by_rule: bool = False


@dataclass(frozen=True)
class PriorityChanged:
    session: Session
    ticket: Ticket
    previous: str
    at: datetime


@dataclass(frozen=True)
class ScheduledReplySent:
    """The delivery worker posted a reply that was scheduled for later."""

    session: Session
    message: Message
    at: datetime
