"""Peer answers on a ticket: reading them, and thanking the fan who answered.

The pipeline records them (pipeline/peer_answer_step.py); agents act on them here, so
the API and the ticket page answer the same. Thanking is a public reply to the fan's
message through the one reply door (``inbox.send_reply``: posting rights, approval,
second-reply guard, personal data), plus a ``peer_thanked`` audit entry and live event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.inbox import ReplyOutcome, send_reply
from socialdesk.actions.recording import ActionError, audit
from socialdesk.domain.enums import Visibility
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.models import PeerAnswer, Ticket, User

MAX_LISTED = 1000


def of_ticket(session: Session, ticket_id: int) -> list[PeerAnswer]:
    return list(
        session.scalars(
            select(PeerAnswer).where(PeerAnswer.ticket_id == ticket_id).order_by(PeerAnswer.id)
        )
    )


def in_period(
    session: Session,
    workspace_ids: set[int],
    since: datetime | None,
    until: datetime | None,
    limit: int = MAX_LISTED,
) -> list[PeerAnswer]:
    """Peer answers detected in [since, until), newest first."""
    query = select(PeerAnswer).where(PeerAnswer.workspace_id.in_(workspace_ids))
    if since is not None:
        query = query.where(PeerAnswer.detected_at >= since)
    if until is not None:
        query = query.where(PeerAnswer.detected_at < until)
    order = (PeerAnswer.detected_at.desc(), PeerAnswer.id.desc())
    return list(session.scalars(query.order_by(*order).limit(limit)))


def default_thanks(answer: PeerAnswer) -> str:
    handle = answer.fan_handle.lstrip("@")
    return f"@{handle} thank you for helping out, that's exactly right!"


def thank_fan(
    session: Session,
    ticket: Ticket,
    actor: User,
    answer_id: int,
    body: str | None = None,
    *,
    confirm: bool = False,
) -> ReplyOutcome:
    """A public reply under the fan's answer (the default text thanks them by handle)."""
    answer = session.get(PeerAnswer, answer_id)
    if answer is None or answer.ticket_id != ticket.id:
        raise ActionError(f"peer answer {answer_id} is not on this ticket", 404)
    text = body if body and body.strip() else default_thanks(answer)
    outcome = send_reply(
        session,
        ticket,
        actor,
        text,
        visibility=Visibility.PUBLIC,
        status_after=None,
        confirm=confirm,
        reply_to_message_id=answer.message_id,
    )
    data = {"peer_answer": answer.id, "fan": answer.fan_handle}
    audit(session, actor, "ticket.peer_thanked", "ticket", ticket.id, ticket.workspace_id, data)
    queue_live_event(
        session,
        LiveEvent(
            "ticket.updated",
            ticket.workspace_id,
            {"ticket_id": ticket.id, "change": "peer_thanked"},
        ),
    )
    return outcome
