"""The periodic SLA scan: warnings and breaches that came due since the last scan.

One range read of ``ix_sla_clocks_next_check`` finds the clocks with something to say
(``next_check_at <= now``), however many tickets are open; each notice becomes a ticket
event, flags on the clock and, for breaches, ``tickets.sla_breached``. Idempotent: a
clock's ``next_check_at`` moves past the notice it just sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, true, update

from socialdesk.domain.enums import TicketEventKind
from socialdesk.domain.sla_clock import ClockRow, NoticeKind, scan_due
from socialdesk.pipeline.identities import chunks
from socialdesk.sla.store import clocks_table
from socialdesk.sla.tracker import iso
from socialdesk.store.models import Ticket, TicketEvent
from socialdesk.store.models.base import table_of

_tickets = table_of(Ticket)
_events = table_of(TicketEvent)


@dataclass(frozen=True, slots=True)
class SlaNotice:
    clock_id: int
    ticket_id: int
    workspace_id: int
    target: str
    kind: NoticeKind
    at: datetime


def scan_sla(conn: Connection, now: datetime, *, limit: int | None = None) -> list[SlaNotice]:
    """Record every warning and breach due at ``now``; returns what was recorded."""
    c = clocks_table
    query = (
        select(
            c.c.id,
            c.c.ticket_id,
            c.c.workspace_id,
            c.c.target,
            c.c.cycle,
            c.c.warning_at,
            c.c.due_at,
            c.c.warned,
            c.c.breached,
        )
        .where(c.c.next_check_at <= now)
        .order_by(c.c.next_check_at)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = conn.execute(query).all()
    if not rows:
        return []
    by_id = {r.id: r for r in rows}
    due = scan_due(
        (ClockRow(r.id, r.warning_at, r.due_at, r.warned, r.breached) for r in rows), now
    )
    notices: list[SlaNotice] = []
    event_rows: list[dict[str, Any]] = []
    warned_ids: list[int] = []
    breached_ids: list[int] = []
    for notice in due:
        row = by_id[notice.clock_id]
        notices.append(
            SlaNotice(row.id, row.ticket_id, row.workspace_id, row.target, notice.kind, notice.at)
        )
        breach = notice.kind == NoticeKind.BREACH
        (breached_ids if breach else warned_ids).append(row.id)
        event_rows.append(
            {
                "ticket_id": row.ticket_id,
                "workspace_id": row.workspace_id,
                "kind": str(
                    TicketEventKind.SLA_BREACHED if breach else TicketEventKind.SLA_WARNING
                ),
                "actor": "sla",
                "data": {
                    "target": row.target,
                    "cycle": row.cycle,
                    "clock_id": row.id,
                    "due_at": iso(row.due_at),
                    "found_by": "scan",
                },
                "created_at": notice.at,
            }
        )
    # A row whose next check was not a notice (stale projection) just moves on.
    stale = [r.id for r in rows if r.id not in {n.clock_id for n in notices}]
    for part in chunks(warned_ids):
        conn.execute(
            update(c).where(c.c.id.in_(part)).values(warned=True, next_check_at=c.c.due_at)
        )
    for part in chunks(breached_ids):
        conn.execute(
            update(c)
            .where(c.c.id.in_(part))
            .values(warned=True, breached=True, breached_at=c.c.due_at, next_check_at=None)
        )
    for part in chunks(stale):
        conn.execute(update(c).where(c.c.id.in_(part)).values(next_check_at=c.c.due_at))
    breached_tickets = sorted({n.ticket_id for n in notices if n.kind == NoticeKind.BREACH})
    for part in chunks(breached_tickets):
        conn.execute(
            update(_tickets)
            .where(_tickets.c.id.in_(part), _tickets.c.sla_breached != true())
            .values(sla_breached=True)
        )
    if event_rows:
        conn.execute(insert(_events), event_rows)
    return notices
