""" "Does it work now?": one check-in after an agent solves a ticket, and the answer.

With the workspace setting ``ask_after_solve`` on, solving a ticket (agent action)
queues one short message on the ticket's channel with the visibility of the customer's
last message (a public reply under their latest post, or a DM). It is asked at most
once per ticket, never on closed (noise) tickets, and is not an agent answer: it does
not set the first response, change the status or touch the SLA clocks.

The customer's next message on that ticket is read by ``CheckInStep`` (first pipeline
step): a score ("5/5", "4 stars") or a yes/no answer ("yes it works" = 5, "still
broken" = 1) becomes a CSAT response and a ``csat_recorded`` event; anything else is
recorded as ``csat_unanswered`` and the check-in is over. A satisfied answer (4 or 5)
keeps the ticket solved; any other message reopens it as usual.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from socialdesk.automation.csat import ASK_AFTER_SOLVE, parse_csat_answer
from socialdesk.delivery.enqueue import enqueue
from socialdesk.domain.enums import (
    DeliveryState,
    Direction,
    TicketEventKind,
    TicketStatus,
    Visibility,
)
from socialdesk.pipeline.identities import chunks
from socialdesk.pipeline.ingest import BatchContext, PlacedMessage
from socialdesk.pipeline.ticket_state import PendingEvent, TicketState
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.models import CsatResponse, Message, Ticket, TicketEvent, Workspace
from socialdesk.store.models.base import table_of

SATISFIED = 4
CHECK_IN_KINDS = (
    str(TicketEventKind.CSAT_ASKED),
    str(TicketEventKind.CSAT_RECORDED),
    str(TicketEventKind.CSAT_UNANSWERED),
)
_NO = re.compile(
    r"^\s*(?:no\b|nope\b|nah\b|not\s+(?:yet|really|working|fixed|at\s+all)\b|still\b"
    r"|(?:it\s+)?(?:still\s+)?(?:doesn'?t|does\s+not|isn'?t|is\s+not|won'?t)\s+work"
    r"|(?:it'?s\s+)?(?:still\s+)?broken\b)",
    re.I,
)
_YES = re.compile(
    r"^\s*(?:yes\b|yep\b|yeah\b|yup\b|works\b|it\s+works\b|(?:it'?s|it\s+is)\s+working\b"
    r"|all\s+good\b|fixed\b|perfect\b|solved\b|sorted\b|great\b)",
    re.I,
)
_MENTIONS = re.compile(r"^(?:\s*@[\w.]+)+[\s,:]*")
_events = table_of(TicketEvent)
_tickets = table_of(Ticket)
_csat = table_of(CsatResponse)


def parse_check_in_answer(text: str) -> tuple[int, str] | None:
    """``(score, comment)`` for an answer to "Does it work now?", else ``None``.

    A 1-5 score as ``parse_csat_answer`` reads it; otherwise "no / still broken" is 1
    and "yes / it works" is 5, with the whole text as the comment.
    """
    text = _MENTIONS.sub("", text)  # "@AcmeSupport 5/5": replies on X open with handles
    scored = parse_csat_answer(text)
    if scored is not None:
        return scored[0], scored[1].lstrip(",;:- ").strip()
    if _NO.match(text):
        return 1, text.strip()
    if _YES.match(text):
        return 5, text.strip()
    return None


def ask_after_solve(session: Session, ticket: Ticket, at: datetime) -> Message | None:
    """Queue the check-in for a ticket an agent just solved, when the workspace wants it."""
    from socialdesk.sla.admin import workspace_settings

    if ticket.status != TicketStatus.SOLVED or ticket.channel_account_id is None:
        return None
    workspace = session.get(Workspace, ticket.workspace_id)
    if workspace is None or not workspace_settings(workspace)["ask_after_solve"]:
        return None
    asked = session.scalar(
        select(TicketEvent.id)
        .where(
            TicketEvent.ticket_id == ticket.id,
            TicketEvent.kind == str(TicketEventKind.CSAT_ASKED),
        )
        .limit(1)
    )
    if asked is not None:
        return None
    last = session.scalar(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.direction == str(Direction.INBOUND))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    if last is None:
        return None
    message = Message(
        ticket_id=ticket.id,
        workspace_id=ticket.workspace_id,
        channel_account_id=ticket.channel_account_id,
        platform=ticket.platform,
        direction=str(Direction.OUTBOUND),
        visibility=str(last.visibility or Visibility.PUBLIC),
        author_name="automation",
        body=ASK_AFTER_SOLVE,
        created_at=at,
        received_at=at,
        delivery_state=str(DeliveryState.QUEUED),
        meta={"automated": True, "check_in": True},
    )
    session.add(message)
    session.flush()
    enqueue(session, message)
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            workspace_id=ticket.workspace_id,
            kind=str(TicketEventKind.CSAT_ASKED),
            actor="automation",
            data={"message_id": message.id, "visibility": message.visibility},
            created_at=at,
        )
    )
    return message


def _waiting(conn: Connection, ticket_ids: list[int]) -> set[int]:
    """Tickets whose newest check-in event is an unanswered question."""
    last: dict[int, str] = {}
    for part in chunks(sorted(ticket_ids)):
        rows = conn.execute(
            select(_events.c.ticket_id, _events.c.kind)
            .where(_events.c.ticket_id.in_(part), _events.c.kind.in_(CHECK_IN_KINDS))
            .order_by(_events.c.id)
        )
        for r in rows:
            last[r.ticket_id] = r.kind
    return {t for t, kind in last.items() if kind == TicketEventKind.CSAT_ASKED}


def _keep_solved(conn: Connection, ticket: TicketState, p: PlacedMessage) -> None:
    """Undo the reopen the satisfied answer caused in ``apply_message``."""
    m = p.source
    reopened = next(
        (
            e
            for e in ticket.events
            if e.kind == TicketEventKind.REOPENED and e.created_at == m.created_at
        ),
        None,
    )
    if reopened is None:
        return
    ticket.events.remove(reopened)
    ticket.status = str(TicketStatus.SOLVED)
    ticket.solved_at = conn.scalar(select(_tickets.c.solved_at).where(_tickets.c.id == ticket.id))
    ticket.needs_reply = False
    ticket.awaiting_since = None


class CheckInStep:
    """Reads the customer's answer to "Does it work now?" (runs before automation)."""

    name = "check_in"

    def apply(self, conn: Connection, batch: BatchContext) -> None:
        candidates = [
            t
            for t in batch.tickets
            if t.id is not None
            and any(e.kind == TicketEventKind.MESSAGE_RECEIVED for e in t.events)
        ]
        if not candidates:
            return
        waiting = _waiting(conn, [t.id for t in candidates if t.id is not None])
        if not waiting:
            return
        first: dict[int, PlacedMessage] = {}
        for p in batch.placed:  # oldest first
            tid = p.ticket.id
            if tid in waiting and p.source.direction == Direction.INBOUND and tid not in first:
                first[tid] = p
        for p in first.values():
            self._answer(conn, p.ticket, p)

    @staticmethod
    def _answer(conn: Connection, ticket: TicketState, p: PlacedMessage) -> None:
        m = p.source
        ref = f"{m.platform}:{m.platform_message_id}"
        received = next(
            (
                e
                for e in ticket.events
                if e.kind == TicketEventKind.MESSAGE_RECEIVED and e.data.get("message") == ref
            ),
            None,
        )
        answer = parse_check_in_answer(m.body)
        if answer is None:
            ticket.events.append(
                PendingEvent(
                    TicketEventKind.CSAT_UNANSWERED, m.created_at, "customer", {"message": ref}
                )
            )
            return
        score, comment = answer
        [csat_id] = insert_with_ids(
            conn,
            _csat,
            [
                {
                    "workspace_id": ticket.workspace_id,
                    "ticket_id": ticket.id,
                    "score": score,
                    "comment": comment[:2000],
                    "source": "customer_message",
                    "message_id": p.id,
                    "created_at": m.created_at,
                }
            ],
        )
        ticket.events.append(
            PendingEvent(
                TicketEventKind.CSAT_RECORDED,
                m.created_at,
                "customer",
                {
                    "score": score,
                    "csat_id": csat_id,
                    "source": "customer_message",
                    "message": ref,
                },
            )
        )
        if score >= SATISFIED:
            _keep_solved(conn, ticket, p)
            if received is not None and ticket.status == TicketStatus.SOLVED:
                # A satisfied answer on a solved ticket is not a question to answer.
                received.data = {**received.data, "csat_answer": True}
