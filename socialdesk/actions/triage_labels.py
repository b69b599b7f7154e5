"""An agent's own triage labels on a ticket: set by hand, never overridden by the pipeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, record_ticket_change
from socialdesk.actions.tickets import require_writer
from socialdesk.domain.enums import TicketEventKind
from socialdesk.store.models import Ticket, User

SENTIMENTS = ("negative", "neutral", "positive")
INTENTS = ("question", "complaint", "request", "praise", "thanks", "feedback", "spam", "other")
MAX_TOPIC_LENGTH = 80


def set_triage_labels(
    session: Session,
    ticket: Ticket,
    actor: User,
    *,
    sentiment: str | None = None,
    intent: str | None = None,
    topic: str | None = None,
) -> dict[str, Any]:
    """Set the labels given; each becomes manual (the triage step leaves it alone)."""
    require_writer(actor)
    wanted: dict[str, Any] = {}
    if sentiment is not None:
        if sentiment not in SENTIMENTS:
            raise ActionError(f"sentiment is one of {', '.join(SENTIMENTS)}", 422)
        wanted["sentiment_label"] = sentiment
    if intent is not None:
        if intent not in INTENTS:
            raise ActionError(f"intent is one of {', '.join(INTENTS)}", 422)
        wanted["intent"] = intent
    if topic is not None:
        topic = topic.strip()
        if not topic or len(topic) > MAX_TOPIC_LENGTH:
            raise ActionError(f"topic is 1 to {MAX_TOPIC_LENGTH} characters", 422)
        wanted["topic"] = topic
    if not wanted:
        raise ActionError("nothing to label; send sentiment, intent or topic", 422)
    before = {column: getattr(ticket, column) for column in wanted}
    for column, value in wanted.items():
        setattr(ticket, column, value)
    if "sentiment_label" in wanted:
        # The score was the model's; a hand label has none, so the manual mark covers it too.
        ticket.sentiment = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}[
            wanted["sentiment_label"]
        ]
        wanted["sentiment"] = ticket.sentiment
    ticket.triage_manual = {**(ticket.triage_manual or {}), **wanted}
    record_ticket_change(
        session, ticket, actor, TicketEventKind.TRIAGE_LABELLED, {"from": before, "to": wanted}
    )
    return wanted
