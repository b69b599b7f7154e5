"""The routing pipeline step: new unassigned tickets get a team and an agent."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection, select

from socialdesk.domain.enums import TicketEventKind
from socialdesk.pipeline.identities import chunks
from socialdesk.pipeline.ingest import BatchContext
from socialdesk.pipeline.ticket_state import PendingEvent, TicketState
from socialdesk.routing.rules import Decision, TeamSpec, route, ticket_attributes
from socialdesk.routing.store import load_agents, load_teams, remember_round_robin
from socialdesk.store.models import TicketTag
from socialdesk.store.models.base import table_of

_tags = table_of(TicketTag)


def tags_of(conn: Connection, ticket_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for part in chunks(sorted(ticket_ids)):
        for row in conn.execute(select(_tags).where(_tags.c.ticket_id.in_(part))):
            out.setdefault(row.ticket_id, []).append(row.tag)
    return out


def record_decision(ticket: TicketState, decision: Decision) -> None:
    at = max(e.created_at for e in ticket.events) if ticket.events else ticket.last_message_at
    if decision.team_id is not None and decision.team_id != ticket.team_id:
        ticket.events.append(
            PendingEvent(
                TicketEventKind.TEAM_CHANGED,
                at,
                "routing",
                {"from": ticket.team_id, "to": decision.team_id, **decision.explanation},
            )
        )
        ticket.team_id = decision.team_id
    if decision.assignee_id is not None:
        ticket.events.append(
            PendingEvent(
                TicketEventKind.ASSIGNED,
                at,
                "routing",
                {"from": ticket.assignee_id, "to": decision.assignee_id, **decision.explanation},
            )
        )
        ticket.assignee_id = decision.assignee_id


class RoutingStep:
    name = "routing"

    def apply(self, conn: Connection, batch: BatchContext) -> None:
        fresh = [
            t
            for t in batch.tickets
            if t.id is not None
            and t.assignee_id is None
            and any(e.kind == TicketEventKind.CREATED for e in t.events)
        ]
        if not fresh:
            return
        teams = load_teams(conn, {t.workspace_id for t in fresh})
        if not any(teams.values()):
            return
        agents = load_agents(conn, [team.id for specs in teams.values() for team in specs])
        tags = tags_of(conn, [t.id for t in fresh if t.id is not None])
        for ticket in fresh:
            specs = teams.get(ticket.workspace_id, [])
            if not specs:
                continue
            attrs = ticket_attributes(
                platform=ticket.platform,
                language=ticket.language,
                intent=ticket.intent,
                priority=ticket.priority,
                tags=tags.get(ticket.id or 0, []),
                sentiment=ticket.sentiment_label,
                topic=ticket.topic,
                urgency=ticket.urgency,
            )
            decision = route(specs, agents, attrs, preset_team_id=ticket.team_id)
            record_decision(ticket, decision)
            if decision.assignee_id is not None and decision.team_id is not None:
                chosen, team_id = decision.assignee_id, decision.team_id
                agents[team_id] = [
                    replace(a, open_tickets=a.open_tickets + 1) if a.user_id == chosen else a
                    for a in agents[team_id]
                ]
                teams[ticket.workspace_id] = [
                    replace(s, last_assigned_user_id=chosen) if s.id == team_id else s
                    for s in specs
                ]
                remember_round_robin(conn, team_id, chosen)


__all__ = ["RoutingStep", "TeamSpec", "record_decision"]
