"""``time_elapsed`` rules: "N minutes since the customer last wrote / the status changed".

Evaluated by the periodic scan (``run_sla_cycle``): for every workspace with such a
rule, each ticket that is not closed gets the facts ``minutes_since_last_customer_message``
and ``minutes_since_status_change`` and every rule it has not fired on yet runs.
A rule fires at most once per ticket: its ``rule_fired`` event (actor ``rule:<id>``)
is the record, so a scan that runs again, or twice at once after a crash, finds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socialdesk.automation.engine import RuleSpec, load_rules
from socialdesk.automation.rules import TIME_FIELDS, conditions_hold
from socialdesk.domain.enums import TicketEventKind, TicketStatus
from socialdesk.pipeline.identities import chunks
from socialdesk.store.models import AutomationRule, Ticket, TicketEvent

# Events that mark a status change (the ticket's creation counts as the first).
STATUS_EVENTS = (
    str(TicketEventKind.CREATED),
    str(TicketEventKind.STATUS_CHANGED),
    str(TicketEventKind.REOPENED),
)


def _minutes(now: datetime, at: datetime | None) -> int | None:
    return None if at is None else int((now - at).total_seconds() // 60)


def time_facts(
    now: datetime, last_customer_message_at: datetime | None, status_changed_at: datetime | None
) -> dict[str, int | None]:
    """The facts of a ``time_elapsed`` rule (``None`` = never happened: no condition holds)."""
    return {
        "minutes_since_last_customer_message": _minutes(now, last_customer_message_at),
        "minutes_since_status_change": _minutes(now, status_changed_at),
    }


def time_conditions_hold(rule: RuleSpec, facts: Mapping[str, Any]) -> bool:
    """Only the time conditions: a cheap filter before the ticket is loaded."""
    return conditions_hold([c for c in rule.conditions if c["field"] in TIME_FIELDS], facts)


def _fired(
    session: Session, ticket_ids: list[int], rules: Sequence[RuleSpec]
) -> set[tuple[int, int]]:
    actors = {f"rule:{r.id}": r.id for r in rules}
    out: set[tuple[int, int]] = set()
    for part in chunks(ticket_ids):
        rows = session.execute(
            select(TicketEvent.ticket_id, TicketEvent.actor).where(
                TicketEvent.ticket_id.in_(part),
                TicketEvent.kind == str(TicketEventKind.RULE_FIRED),
                TicketEvent.actor.in_(list(actors)),
            )
        )
        out.update((r.ticket_id, actors[r.actor]) for r in rows)
    return out


def _status_changed_at(session: Session, ticket_ids: list[int]) -> dict[int, datetime]:
    out: dict[int, datetime] = {}
    for part in chunks(ticket_ids):
        rows = session.execute(
            select(TicketEvent.ticket_id, func.max(TicketEvent.created_at).label("at"))
            .where(TicketEvent.ticket_id.in_(part), TicketEvent.kind.in_(STATUS_EVENTS))
            .group_by(TicketEvent.ticket_id)
        )
        out.update((r.ticket_id, r.at) for r in rows)
    return out


def run_time_rules(session: Session, now: datetime) -> int:
    """Fire the due ``time_elapsed`` rules; returns how many (ticket, rule) pairs fired."""
    from socialdesk.automation.step import run_for_ticket

    workspaces = set(
        session.scalars(
            select(AutomationRule.workspace_id)
            .where(AutomationRule.event == "time_elapsed", AutomationRule.enabled.is_(True))
            .distinct()
        )
    )
    if not workspaces:
        return 0
    rules = {
        w: [r for r in specs if r.event == "time_elapsed"]
        for w, specs in load_rules(session.connection(), workspaces).items()
    }
    fired = 0
    for workspace_id, ws_rules in rules.items():
        rows = session.execute(
            select(Ticket.id, Ticket.last_inbound_at)
            .where(Ticket.workspace_id == workspace_id, Ticket.status != str(TicketStatus.CLOSED))
            .order_by(Ticket.id)
        ).all()
        ids = [r.id for r in rows]
        done = _fired(session, ids, ws_rules)
        changed_at = _status_changed_at(session, ids)
        for row in rows:
            facts = time_facts(now, row.last_inbound_at, changed_at.get(row.id))
            due = [
                r for r in ws_rules if (row.id, r.id) not in done and time_conditions_hold(r, facts)
            ]
            if not due:
                continue
            ticket = session.get(Ticket, row.id)
            if ticket is None:
                continue
            run_for_ticket(session, ticket, "time_elapsed", now, dict(facts), rules=due)
            session.flush()
            fired += len(_fired(session, [row.id], due))
    return fired
