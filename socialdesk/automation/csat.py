"""Customer satisfaction: read a score out of an answer, record it."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, record_ticket_change
from socialdesk.actions.tickets import require_writer
from socialdesk.domain.enums import TicketEventKind
from socialdesk.store.db import utcnow
from socialdesk.store.models import CsatResponse, Ticket, User

ASK_AFTER_SOLVE = "Does it work now? Reply with a number from 1 (not at all) to 5 (perfectly)."
_SCORE = re.compile(
    r"^\s*([1-5])(?![0-9])(?:\s*(?:/\s*5|out\s+of\s+5|stars?|⭐+))?\s*[.!]?\s*(.*)$", re.I
)
_STARS = re.compile(r"^\s*(⭐{1,5})\s*(.*)$")


def parse_csat_answer(text: str) -> tuple[int, str] | None:
    """``(score, comment)`` when the text opens with a 1-5 score, else ``None``."""
    match = _SCORE.match(text) or _STARS.match(text)
    if not match:
        return None
    raw = match.group(1)
    score = len(raw) if raw.startswith("⭐") else int(raw)
    return score, match.group(2).strip()


def record_csat(
    session: Session,
    ticket: Ticket,
    actor: User | None,
    score: int,
    comment: str = "",
    *,
    source: str = "api",
    message_id: int | None = None,
) -> CsatResponse:
    if actor is not None:
        require_writer(actor)  # viewers read only; a customer's answer has no actor
    if not 1 <= score <= 5:
        raise ActionError("a CSAT score is 1 to 5", 422)
    now = utcnow()
    answer = CsatResponse(
        workspace_id=ticket.workspace_id,
        ticket_id=ticket.id,
        score=score,
        comment=comment.strip()[:2000],
        source=source,
        message_id=message_id,
        created_at=now,
    )
    session.add(answer)
    session.flush()
    record_ticket_change(
        session,
        ticket,
        actor,
        TicketEventKind.CSAT_RECORDED,
        {"score": score, "csat_id": answer.id, "source": source},
        at=now,
    )
    return answer
