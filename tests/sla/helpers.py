from __future__ import annotations

from typing import Any

from sqlalchemy import select

from socialdesk.actions.admin import ensure_workspace
from socialdesk.sla.admin import create_policy
from socialdesk.store.db import Database
from socialdesk.store.models import Message, Ticket, TicketEvent

NY_OFFICE = {
    "timezone": "America/New_York",
    "hours": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "country": "US",
}
TARGETS = [
    {
        "channel": None,
        "priority": None,
        "first_response_minutes": 60,
        "next_response_minutes": 30,
        "resolution_minutes": 480,
    }
]


def add_policy(db: Database, **values: Any) -> int:
    values.setdefault("name", "default")
    values.setdefault("targets", TARGETS)
    values.setdefault("calendar", NY_OFFICE)
    with db.write() as s:
        return create_policy(s, None, ensure_workspace(s).id, **values).id


def ticket_of(db: Database, pid: str) -> Ticket:
    with db.session() as s:
        ticket_id = s.scalar(select(Message.ticket_id).where(Message.platform_message_id == pid))
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def events_of(
    db: Database, ticket_id: int, prefix: str = "sla_"
) -> list[tuple[str, dict[str, Any]]]:
    with db.session() as s:
        rows = s.execute(
            select(TicketEvent.kind, TicketEvent.data)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind.like(f"{prefix}%"))
            .order_by(TicketEvent.id)
        )
        return [(r.kind, r.data) for r in rows]
