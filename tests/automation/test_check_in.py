""" "Does it work now?" after solving: asked once on the same channel and visibility,
the customer's answer through the real pipeline becomes a CSAT response."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.actions.tickets import reply, set_status
from socialdesk.automation.check_in import parse_check_in_answer
from socialdesk.automation.csat import ASK_AFTER_SOLVE
from socialdesk.config import Settings
from socialdesk.domain.enums import Role, TicketStatus, Visibility
from socialdesk.domain.messages import InboundMessage
from socialdesk.sla.admin import update_workspace_settings
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import CsatResponse, Message, OutboxEntry, Ticket, TicketEvent, User
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import T0, ingest, make_account, post
from tests.sla.helpers import add_policy, ticket_of

PIPELINE = build_pipeline(Settings())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5/5", (5, "")),
        ("4 stars, thanks", (4, "thanks")),
        ("yes it works", (5, "yes it works")),
        ("Yep, all good now!", (5, "Yep, all good now!")),
        ("it works now", (5, "it works now")),
        ("still broken", (1, "still broken")),
        ("No, same error", (1, "No, same error")),
        ("it doesn't work", (1, "it doesn't work")),
        ("not yet", (1, "not yet")),
        ("what about my refund?", None),
        ("thanks!", None),
        ("10/10", None),
        ("@AcmeSupport @sam 5/5", (5, "")),
        ("@AcmeSupport still broken", (1, "still broken")),
    ],
)
def test_check_in_answers(text: str, expected: tuple[int, str] | None) -> None:
    assert parse_check_in_answer(text) == expected


def _setup(db: Database, *, ask: bool = True) -> tuple[int, int]:
    add_policy(db, calendar=None)
    with db.write() as s:
        ws = ensure_workspace(s)
        update_workspace_settings(s, None, ws, {"ask_after_solve": ask})
        agent = create_user(s, "a@ex.com", "correct horse battery", Role.AGENT, workspace=ws)
        agent_id = agent.id
    return make_account(db), agent_id


def _later(account: int, pid: str, body: str, extra: float = 0, **kw: Any) -> InboundMessage:
    """A customer message after the agent's (real-time) reply."""
    minutes = (utcnow() - T0).total_seconds() / 60 + 1 + extra
    return post(account, pid, body, minutes=minutes, **kw)


def _solve(db: Database, ticket_id: int, agent_id: int, **kw: Any) -> None:
    with db.write() as s:
        ticket, agent = s.get(Ticket, ticket_id), s.get(User, agent_id)
        assert ticket is not None and agent is not None
        reply(s, ticket, agent, "Fixed on our side, sorry!", status_after=TicketStatus.SOLVED, **kw)


def _check_ins(db: Database) -> list[tuple[Message, OutboxEntry]]:
    with db.session() as s:
        rows = s.execute(
            select(Message, OutboxEntry)
            .join(OutboxEntry, OutboxEntry.message_id == Message.id)
            .where(Message.body == ASK_AFTER_SOLVE)
            .order_by(Message.id)
        )
        return [(m, o) for m, o in rows]


def _kinds(db: Database, ticket_id: int) -> list[str]:
    with db.session() as s:
        return list(
            s.scalars(
                select(TicketEvent.kind)
                .where(TicketEvent.ticket_id == ticket_id)
                .order_by(TicketEvent.id)
            )
        )


def _csat(db: Database) -> list[tuple[int, str, str, int | None]]:
    with db.session() as s:
        rows = s.execute(
            select(
                CsatResponse.score,
                CsatResponse.comment,
                CsatResponse.source,
                CsatResponse.ticket_id,
            ).order_by(CsatResponse.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_satisfied_answer_is_recorded_and_the_ticket_stays_solved(db: Database) -> None:
    acct, agent_id = _setup(db)
    ingest(db, post(acct, "1", "@AcmeSupport the app crashes on login"), pipeline=PIPELINE)
    ticket_id = ticket_of(db, "1").id
    _solve(db, ticket_id, agent_id)

    [(ask, entry)] = _check_ins(db)
    assert ask.ticket_id == ticket_id and ask.visibility == "public"
    assert entry.kind == "public_reply" and ask.author_user_id is None
    ticket = ticket_of(db, "1")
    agent_reply_at = ticket.first_response_at
    assert ticket.status == "solved" and ticket.message_count == 2  # customer + agent only
    assert "csat_asked" in _kinds(db, ticket_id)

    ingest(db, _later(acct, "2", "yes it works, thanks!", reply_to="1"), pipeline=PIPELINE)
    assert _csat(db) == [(5, "yes it works, thanks!", "customer_message", ticket_id)]
    ticket = ticket_of(db, "2")
    assert ticket.id == ticket_id
    assert ticket.status == "solved" and not ticket.needs_reply
    assert ticket.first_response_at == agent_reply_at
    kinds = _kinds(db, ticket_id)
    assert "csat_recorded" in kinds and "reopened" not in kinds
    assert ticket.next_response_due_at is None

    # A later message is an ordinary one: no second CSAT, it reopens the ticket.
    ingest(db, _later(acct, "3", "5/5 but now the export fails", reply_to="1"), pipeline=PIPELINE)
    assert len(_csat(db)) == 1
    assert ticket_of(db, "3").status == "open"


def test_still_broken_records_a_low_score_and_reopens(db: Database) -> None:
    acct, agent_id = _setup(db)
    ingest(db, post(acct, "1", "@AcmeSupport the app crashes on login"), pipeline=PIPELINE)
    ticket_id = ticket_of(db, "1").id
    _solve(db, ticket_id, agent_id)
    ingest(db, _later(acct, "2", "still broken :(", reply_to="1"), pipeline=PIPELINE)
    assert _csat(db) == [(1, "still broken :(", "customer_message", ticket_id)]
    ticket = ticket_of(db, "2")
    assert ticket.status == "open" and ticket.needs_reply
    assert "reopened" in _kinds(db, ticket_id)
    assert ticket.next_response_due_at is not None


def test_asked_once_per_ticket_in_the_customers_dm(db: Database) -> None:
    acct, agent_id = _setup(db)
    ingest(db, post(acct, "d1", "my order is late", conversation="c1"), pipeline=PIPELINE)
    ticket_id = ticket_of(db, "d1").id
    _solve(db, ticket_id, agent_id, visibility=Visibility.PRIVATE)
    # Reopened by the agent and solved again: still one check-in.
    with db.write() as s:
        ticket, agent = s.get(Ticket, ticket_id), s.get(User, agent_id)
        assert ticket is not None and agent is not None
        set_status(s, ticket, agent, TicketStatus.OPEN)
        set_status(s, ticket, agent, TicketStatus.SOLVED)
    [(ask, entry)] = _check_ins(db)
    assert ask.visibility == "private" and entry.kind == "direct_message"


def test_an_unrelated_message_ends_the_check_in(db: Database) -> None:
    acct, agent_id = _setup(db)
    ingest(db, post(acct, "1", "@AcmeSupport the app crashes on login"), pipeline=PIPELINE)
    ticket_id = ticket_of(db, "1").id
    _solve(db, ticket_id, agent_id)
    ingest(db, _later(acct, "2", "and what about my refund?", reply_to="1"), pipeline=PIPELINE)
    assert ticket_of(db, "2").status == "open"
    ingest(db, _later(acct, "3", "5", extra=1, reply_to="1"), pipeline=PIPELINE)
    assert _csat(db) == []
    assert _kinds(db, ticket_id).count("csat_unanswered") == 1


@pytest.mark.parametrize("how", ["setting off", "closed as noise"])
def test_not_asked(db: Database, how: str) -> None:
    acct, agent_id = _setup(db, ask=how != "setting off")
    ingest(db, post(acct, "1", "@AcmeSupport the app crashes on login"), pipeline=PIPELINE)
    ticket_id = ticket_of(db, "1").id
    with db.write() as s:
        ticket, agent = s.get(Ticket, ticket_id), s.get(User, agent_id)
        assert ticket is not None and agent is not None
        if how == "setting off":
            reply(s, ticket, agent, "Fixed!", status_after=TicketStatus.SOLVED)
        else:
            set_status(s, ticket, agent, TicketStatus.CLOSED)
    assert _check_ins(db) == []
    assert "csat_asked" not in _kinds(db, ticket_id)
