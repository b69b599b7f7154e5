"""Peer answers: another customer's public reply that answered the ticket's customer
(pipeline/peer_answer_step.py finds them; docs/triage.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.store.models.base import Base, BigId, created_at_column


class PeerAnswer(Base):
    """One reply by a fan that answers the customer's question, once per message."""

    __tablename__ = "peer_answers"
    __table_args__ = (
        # The API's and the reports' period reads: a workspace's answers by detection time.
        Index("ix_peer_answers_ws_detected", "workspace_id", "detected_at"),
        Index("ix_peer_answers_ticket", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    # The customer's message it answers.
    question_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    fan_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    fan_handle: Mapped[str] = mapped_column(String(255))
    score: Mapped[float] = mapped_column(Float)
    detected_at: Mapped[datetime] = created_at_column()
