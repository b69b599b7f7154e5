"""The overview report read from the database: which tickets a period concerns, their
events folded into facts (``reports/metrics.py``), filtered, grouped and labelled."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, and_, func, select, union
from sqlalchemy.orm import Session

from socialdesk.reports.metrics import (
    FIELDS,
    NOT_SOCIAL,
    EventRow,
    GroupBy,
    Period,
    TicketFacts,
    aggregate,
    fold_ticket,
)
from socialdesk.store.models import (
    ChannelAccount,
    PeerAnswer,
    Team,
    Ticket,
    TicketEvent,
    User,
)
from socialdesk.store.models import Workspace as WorkspaceRow

# The event kinds any metric reads; the rest of the log is left on disk.
FOLDED_KINDS = (
    "created",
    "message_received",
    "replied",
    "note_added",
    "auto_replied",
    "status_changed",
    "reopened",
    "assigned",
    "csat_recorded",
    "contact_logged",
)
# Kinds that put a ticket opened earlier into this period's report (solved, CSAT).
HAPPENED_KINDS = ("status_changed", "reopened", "csat_recorded")


@dataclass(frozen=True, slots=True)
class Filters:
    channel: str | None = None
    account_id: int | None = None
    team_id: int | None = None
    agent_id: int | None = None

    def keep(self, f: TicketFacts) -> bool:
        return (
            (self.channel is None or f.channel == self.channel)
            and (self.account_id is None or f.account_id == self.account_id)
            and (self.team_id is None or f.team_id == self.team_id)
            and (self.agent_id is None or f.assignee_id == self.agent_id)
        )


@dataclass(slots=True)
class Overview:
    by: GroupBy
    since: datetime
    until: datetime
    timezone: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "by": str(self.by),
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "timezone": self.timezone,
            "fields": list(FIELDS),
            "rows": self.rows,
            "totals": self.totals,
        }


def workspace_zone(session: Session, workspace_id: int) -> tuple[str, ZoneInfo]:
    """The workspace's time zone (settings ``timezone``, UTC when unset or unknown)."""
    settings = session.scalar(select(WorkspaceRow.settings).where(WorkspaceRow.id == workspace_id))
    name = (settings or {}).get("timezone") or "UTC"
    try:
        return str(name), ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC", ZoneInfo("UTC")


def concerned_tickets(workspace_id: int, since: datetime, until: datetime) -> Select[Any]:
    """Ids of tickets opened in the period or solved/rated in it: two index ranges of
    ``ix_ticket_events_ws_kind_time``."""
    in_period = and_(
        TicketEvent.workspace_id == workspace_id,
        TicketEvent.created_at >= since,
        TicketEvent.created_at < until,
    )
    opened = select(TicketEvent.ticket_id).where(in_period, TicketEvent.kind == "created")
    happened = select(TicketEvent.ticket_id).where(in_period, TicketEvent.kind.in_(HAPPENED_KINDS))
    return select(union(opened, happened).subquery().c.ticket_id)


def _net_new(session: Session, ids: Select[Any]) -> set[int]:
    """Tickets that are their contact's first ever, on a social network."""
    contacts = select(Ticket.contact_id).where(Ticket.id.in_(ids), Ticket.contact_id.is_not(None))
    first = (
        select(Ticket.contact_id, func.min(Ticket.first_message_at).label("first_at"))
        .where(Ticket.contact_id.in_(contacts))
        .group_by(Ticket.contact_id)
        .subquery()
    )
    rows = session.execute(
        select(Ticket.id, Ticket.platform)
        .join(
            first,
            and_(
                first.c.contact_id == Ticket.contact_id,
                first.c.first_at == Ticket.first_message_at,
            ),
        )
        .where(Ticket.id.in_(ids))
    )
    return {ticket_id for ticket_id, platform in rows if platform not in NOT_SOCIAL}


def _peer_answered(session: Session, ids: Select[Any]) -> set[int]:
    """Tickets on which a fan's reply answered the customer (``peer_answers``, found by
    pipeline/peer_answer_step.py), not merely any other customer posting."""
    return set(
        session.scalars(
            select(PeerAnswer.ticket_id).where(PeerAnswer.ticket_id.in_(ids)).distinct()
        )
    )


def load_facts(
    session: Session, workspace_id: int, since: datetime, until: datetime
) -> list[TicketFacts]:
    ids = concerned_tickets(workspace_id, since, until)
    events: dict[int, list[EventRow]] = defaultdict(list)
    for ticket_id, kind, at, actor, data in session.execute(
        select(
            TicketEvent.ticket_id,
            TicketEvent.kind,
            TicketEvent.created_at,
            TicketEvent.actor_user_id,
            TicketEvent.data,
        ).where(TicketEvent.ticket_id.in_(ids), TicketEvent.kind.in_(FOLDED_KINDS))
    ):
        events[ticket_id].append(EventRow(kind, at, actor, data or {}))
    net_new = _net_new(session, ids)
    peers = _peer_answered(session, ids)
    facts: list[TicketFacts] = []
    for ticket_id, platform, account_id, team_id, assignee_id in session.execute(
        select(
            Ticket.id,
            Ticket.platform,
            Ticket.channel_account_id,
            Ticket.team_id,
            Ticket.assignee_id,
        ).where(Ticket.id.in_(ids))
    ):
        folded = fold_ticket(
            ticket_id,
            events.get(ticket_id, ()),
            channel=platform,
            account_id=account_id,
            team_id=team_id,
            assignee_id=assignee_id,
            net_new_customer=ticket_id in net_new,
            peer_answered=ticket_id in peers,
        )
        if folded is not None:
            facts.append(folded)
    return facts


def group_labels(session: Session, by: GroupBy, keys: Sequence[str]) -> dict[str, str]:
    """Names for the keys of an account, team or agent grouping."""
    ids = [int(k) for k in keys if k.isdigit()]
    if not ids or by not in (GroupBy.ACCOUNT, GroupBy.TEAM, GroupBy.AGENT):
        return {}
    key: Any
    name: Any
    if by == GroupBy.ACCOUNT:
        key, name = ChannelAccount.id, ChannelAccount.handle
    elif by == GroupBy.TEAM:
        key, name = Team.id, Team.name
    else:
        key, name = User.id, func.coalesce(func.nullif(User.name, ""), User.email)
    query = select(key, name).where(key.in_(ids))
    return {str(i): str(name) for i, name in session.execute(query)}


def grouped(
    session: Session,
    facts: Sequence[TicketFacts],
    by: GroupBy,
    period: Period,
    now: datetime,
    timezone: str,
) -> Overview:
    """The report rows of already loaded (and filtered) facts, with names for the keys."""
    keys = {
        str(value)
        for f in facts
        for value in (f.account_id, f.team_id, f.assignee_id)
        if value is not None
    }
    names = group_labels(session, by, sorted(keys))
    missing = {
        GroupBy.TEAM: "(no team)",
        GroupBy.AGENT: "(unassigned)",
        GroupBy.ACCOUNT: "(no account)",
    }.get(by, "(none)")

    def label(key: str) -> str:
        if by == GroupBy.NONE:
            return "All"
        return names.get(key, key) if key else missing

    rows, totals = aggregate(facts, by, period, now, labels=label)
    return Overview(by, period.since, period.until, timezone, rows, totals)


def overview(
    session: Session,
    workspace_id: int,
    since: datetime,
    until: datetime,
    by: GroupBy,
    now: datetime,
    filters: Filters | None = None,
) -> Overview:
    zone_name, zone = workspace_zone(session, workspace_id)
    keep = filters or Filters()
    facts = [f for f in load_facts(session, workspace_id, since, until) if keep.keep(f)]
    return grouped(session, facts, by, Period(since, until, zone), now, zone_name)


def inbound_moments(
    session: Session, workspace_id: int, since: datetime, until: datetime, filters: Filters
) -> list[datetime]:
    """When customers wrote in the period (every message, not only tickets' first)."""
    query = select(TicketEvent.created_at).where(
        TicketEvent.workspace_id == workspace_id,
        TicketEvent.kind == "message_received",
        TicketEvent.created_at >= since,
        TicketEvent.created_at < until,
    )
    conditions = [
        column == value
        for column, value in (
            (Ticket.platform, filters.channel),
            (Ticket.channel_account_id, filters.account_id),
            (Ticket.team_id, filters.team_id),
            (Ticket.assignee_id, filters.agent_id),
        )
        if value is not None
    ]
    if conditions:
        query = query.join(Ticket, Ticket.id == TicketEvent.ticket_id).where(*conditions)
    return list(session.scalars(query))
