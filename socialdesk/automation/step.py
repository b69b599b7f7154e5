"""Automation from the pipeline (ticket created, customer message, agent reply, status
change), from agent actions and from the SLA scan (warning, breach)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from socialdesk.automation.engine import (
    RuleSpec,
    Runner,
    TicketContext,
    Trigger,
    auto_replied_rules,
    load_rules,
)
from socialdesk.dispatch import PriorityChanged, StatusChanged, emit
from socialdesk.domain.business_hours import is_business_time
from socialdesk.domain.enums import Direction, TicketEventKind
from socialdesk.pipeline.identities import chunks
from socialdesk.pipeline.ingest import BatchContext, PlacedMessage
from socialdesk.pipeline.ticket_state import PendingEvent, TicketState
from socialdesk.routing.step import tags_of
from socialdesk.sla.policies import PolicySpec
from socialdesk.sla.scan import SlaNotice, scan_sla
from socialdesk.sla.store import load_policies, policy_for
from socialdesk.store.db import Database, utcnow
from socialdesk.store.leases import single_runner
from socialdesk.store.models import Contact, Ticket, TicketEvent
from socialdesk.store.models.base import table_of

_contacts = table_of(Contact)


def _business_hours(policy: PolicySpec | None, at: datetime) -> bool:
    return True if policy is None else is_business_time(policy.calendar, at)


def message_facts(
    p: PlacedMessage, ticket: TicketState, vip: bool, policy: PolicySpec | None
) -> dict[str, Any]:
    m = p.source
    return {
        "channel": str(m.platform),
        "account": m.channel_account_id,
        "text": m.body,
        "follower_count": m.author.follower_count,
        "vip": vip,
        "business_hours": _business_hours(policy, m.created_at),
        "own_post": m.direction != Direction.INBOUND,
        "visibility": str(m.visibility),
        "language": ticket.language,
        "intent": ticket.intent,
        "sentiment": ticket.sentiment_label,
        "topic": ticket.topic,
        "urgency": ticket.urgency,
    }


def _vips(conn: Connection, contact_ids: list[int]) -> set[int]:
    out: set[int] = set()
    for part in chunks(sorted(set(contact_ids))):
        rows = conn.execute(
            select(_contacts.c.id).where(_contacts.c.id.in_(part), _contacts.c.vip.is_(True))
        )
        out.update(r.id for r in rows)
    return out


def _triggers(ticket: TicketState, placed: list[PlacedMessage], facts: Any) -> list[Trigger]:
    """Rule events from the ticket events the batch produced, in order."""
    by_ref = {f"{p.source.platform}:{p.source.platform_message_id}": p for p in placed}
    out: list[Trigger] = []
    for event in list(ticket.events):
        kind = event.kind
        if kind == TicketEventKind.CREATED and placed:
            out.append(Trigger("ticket_created", event.created_at, facts(placed[0])))
        elif kind in (TicketEventKind.MESSAGE_RECEIVED, TicketEventKind.REPLIED):
            p = by_ref.get(str(event.data.get("message")))
            if p is not None:
                name = (
                    "customer_message"
                    if kind == TicketEventKind.MESSAGE_RECEIVED
                    else "agent_reply"
                )
                out.append(Trigger(name, event.created_at, facts(p)))
        elif kind in (TicketEventKind.STATUS_CHANGED, TicketEventKind.REOPENED) and placed:
            data = {**facts(placed[-1]), "previous_status": event.data.get("from")}
            out.append(Trigger("status_change", event.created_at, data))
    return out


def _run_pipeline_ticket(
    conn: Connection,
    ticket: TicketState,
    rules: Sequence[RuleSpec],
    ctx: TicketContext,
    placed: list[PlacedMessage],
    vip: bool,
) -> None:
    def facts(p: PlacedMessage) -> dict[str, Any]:
        return message_facts(p, ticket, vip, ctx.policy)

    def record(kind: Any, at: datetime, actor: str, data: dict[str, Any]) -> None:
        ticket.events.append(PendingEvent(kind, at, actor, data))

    runner = Runner(conn, ticket, ctx, record)
    for trigger in _triggers(ticket, placed, facts):
        runner.run(rules, trigger)


class AutomationStep:
    name = "automation"

    def apply(self, conn: Connection, batch: BatchContext) -> None:
        tickets = [t for t in batch.tickets if t.id is not None and t.events]
        if not tickets:
            return
        rules = load_rules(conn, {t.workspace_id for t in tickets})
        if not any(rules.values()):
            return
        policies = load_policies(conn, {t.workspace_id for t in tickets})
        tags = tags_of(conn, [t.id for t in tickets if t.id is not None])
        vips = _vips(conn, [t.contact_id for t in tickets if t.contact_id is not None])
        placed_of: dict[int, list[PlacedMessage]] = {}
        for p in batch.placed:
            placed_of.setdefault(id(p.ticket), []).append(p)
        for ticket in tickets:
            assert ticket.id is not None
            ws_rules = rules.get(ticket.workspace_id, [])
            if not ws_rules:
                continue
            policy = policy_for(
                policies.get(ticket.workspace_id, []), ticket.sla_policy_id, ticket.platform
            )
            ctx = TicketContext(
                tags=set(tags.get(ticket.id, [])),
                policy=policy,
                auto_replied_rules=auto_replied_rules(conn, ticket.id),
            )
            _run_pipeline_ticket(
                conn,
                ticket,
                ws_rules,
                ctx,
                placed_of.get(id(ticket), []),
                ticket.contact_id in vips,
            )


def run_for_ticket(
    session: Session,
    ticket: Ticket,
    event: str,
    at: datetime,
    facts: dict[str, Any],
    rules: Sequence[RuleSpec] | None = None,
) -> None:
    """Rules for a change made through an action (agent reply, status change) or the
    scan (``rules``: only these; default: the workspace's). A status a rule sets moves
    the SLA clocks like an agent's change would."""
    conn = session.connection()
    if rules is None:
        rules = load_rules(conn, [ticket.workspace_id])[ticket.workspace_id]
    if not any(r.event == event for r in rules):
        return
    session.flush()
    policies = load_policies(conn, [ticket.workspace_id])[ticket.workspace_id]
    policy = policy_for(policies, ticket.sla_policy_id, ticket.platform)
    ctx = TicketContext(
        tags=set(tags_of(conn, [ticket.id]).get(ticket.id, [])),
        policy=policy,
        auto_replied_rules=auto_replied_rules(conn, ticket.id),
    )
    base = {
        "channel": ticket.platform,
        "account": ticket.channel_account_id,
        "business_hours": _business_hours(policy, at),
        "own_post": False,
        "language": ticket.language,
        "intent": ticket.intent,
        "sentiment": ticket.sentiment_label,
        "topic": ticket.topic,
        "urgency": ticket.urgency,
    }

    def record(kind: Any, when: datetime, actor: str, data: dict[str, Any]) -> None:
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                workspace_id=ticket.workspace_id,
                kind=str(kind),
                actor=actor,
                data=data,
                created_at=when,
            )
        )

    before, before_priority = ticket.status, ticket.priority
    Runner(conn, ticket, ctx, record).run(rules, Trigger(event, at, {**base, **facts}))
    if ticket.priority != before_priority:  # set_priority / escalate move the SLA targets
        emit(PriorityChanged(session, ticket, before_priority, at))
    if ticket.status != before:
        emit(StatusChanged(session, ticket, None, before, ticket.status, at, by_rule=True))


def run_sla_rules(session: Session, notices: Sequence[SlaNotice]) -> None:
    """SLA warning / breach rules for what a scan just recorded."""
    conn = session.connection()
    rules = load_rules(conn, {n.workspace_id for n in notices})
    wanted = {w for w, specs in rules.items() if any(r.event.startswith("sla_") for r in specs)}
    for notice in notices:
        if notice.workspace_id not in wanted:
            continue
        ticket = session.get(Ticket, notice.ticket_id)
        if ticket is None:
            continue
        event = "sla_breach" if str(notice.kind) == "breach" else "sla_warning"
        run_for_ticket(session, ticket, event, notice.at, {"sla_target": notice.target})


def run_sla_cycle(db: Database, now: datetime | None = None) -> list[SlaNotice]:
    """One periodic pass: record warnings and breaches, run the SLA rules, the
    ``time_elapsed`` rules, then reopen the tickets of promises that fell due."""
    from socialdesk.automation.elapsed import run_time_rules
    from socialdesk.automation.followups import run_due_promises

    now = now or utcnow()
    # One process at a time (several servers and workers may share the database): the
    # holder commits before letting go, and its commit moves every clock and rule past
    # what it recorded, so whoever scans next finds nothing twice. Skipped: [].
    with single_runner(db, "sla-scan") as mine:
        if not mine:
            return []
        with db.write() as session:
            notices = scan_sla(session.connection(), now)
            run_sla_rules(session, notices)
            run_time_rules(session, now)
            # Unkept promises put their tickets back in the queue before the next scan
            # would see their new response clocks.
            run_due_promises(session, now)
    return notices
