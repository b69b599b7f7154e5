"""The dispatcher: every fact a write announces has its listeners, in the order the
features need, and an action's side effects run in the writer's transaction."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.actions.recording import ActionError
from socialdesk.actions.tickets import set_priority, set_status
from socialdesk.automation import listeners as automation
from socialdesk.config import Settings
from socialdesk.dispatch import (
    AgentReplied,
    PriorityChanged,
    ScheduledReplySent,
    StatusChanged,
    forget,
    listen,
    listeners_of,
)
from socialdesk.domain.enums import Priority, Role, TicketStatus
from socialdesk.sla import listeners as sla
from socialdesk.store.db import Database
from socialdesk.store.models import Ticket, TicketEvent, User
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import ingest, make_account, post

EVENTS = [AgentReplied, StatusChanged, PriorityChanged, ScheduledReplySent]


@pytest.mark.parametrize("event_type", EVENTS, ids=lambda e: e.__name__)
def test_every_event_has_a_listener(event_type: type) -> None:
    assert listeners_of(event_type), f"nobody reacts to {event_type.__name__}"


@pytest.mark.parametrize(
    ("event_type", "first", "then"),
    [
        (AgentReplied, sla.on_agent_replied, automation.on_agent_replied),
        (StatusChanged, sla.on_status_changed, automation.on_status_changed),
    ],
)
def test_clocks_settle_before_rules_read_them(
    event_type: type, first: Callable[..., None], then: Callable[..., None]
) -> None:
    order = listeners_of(event_type)
    assert order.index(first) < order.index(then)


def _ticket_and_agent(db: Database) -> tuple[int, int]:
    ingest(db, post(make_account(db), "1", "hello?"), pipeline=build_pipeline(Settings()))
    with db.write() as s:
        agent = create_user(
            s, "a@example.com", "correct horse battery", Role.AGENT, workspace=ensure_workspace(s)
        )
        ticket_id = s.query(Ticket.id).scalar()
        return ticket_id, agent.id


def test_an_action_announces_what_it_did(db: Database) -> None:
    ticket_id, agent_id = _ticket_and_agent(db)
    heard: list[object] = []
    listen(StatusChanged, heard.append)
    listen(PriorityChanged, heard.append)
    try:
        with db.write() as s:
            ticket, agent = s.get(Ticket, ticket_id), s.get(User, agent_id)
            assert ticket is not None and agent is not None
            set_status(s, ticket, agent, TicketStatus.OPEN)
            set_priority(s, ticket, agent, Priority.HIGH)
    finally:
        forget(StatusChanged, heard.append)
        forget(PriorityChanged, heard.append)
    assert [type(e).__name__ for e in heard] == ["StatusChanged", "PriorityChanged"]
    status = heard[0]
    assert isinstance(status, StatusChanged)
    assert (status.previous, status.new, status.by_rule) == ("new", "open", False)


def test_a_failing_listener_rolls_the_write_back(db: Database) -> None:
    ticket_id, agent_id = _ticket_and_agent(db)

    def refuse(event: StatusChanged) -> None:
        raise ActionError("listener refused", 409)

    listen(StatusChanged, refuse)
    try:
        with pytest.raises(ActionError), db.write() as s:
            ticket, agent = s.get(Ticket, ticket_id), s.get(User, agent_id)
            assert ticket is not None and agent is not None
            set_status(s, ticket, agent, TicketStatus.OPEN)
    finally:
        forget(StatusChanged, refuse)
    with db.session() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "new"
        kinds = {k for (k,) in s.query(TicketEvent.kind).filter_by(ticket_id=ticket_id)}
        assert "status_changed" not in kinds
