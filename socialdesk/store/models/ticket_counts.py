"""How many tickets each inbox view holds, kept current by database triggers.

One row per (workspace, status, account, team, assignee, waiting-for-reply): the view
counts read these few rows instead of counting every ticket on a cache miss. Triggers
(migration 0045) maintain them in the same transaction as every ticket write, whatever
door it came through (actions, Core bulk inserts, replay, seeding), so the counts can
never drift from the tickets. A missing account, team or assignee is stored as 0 so the
key can be a primary key (NULLs are never equal); readers turn 0 back into None.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.store.models.base import Base


class TicketViewCount(Base):
    __tablename__ = "ticket_view_counts"

    workspace_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    channel_account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    team_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    assignee_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # 1 when the customer waits on us (the "Needs reply" view's condition), else 0.
    needs_reply: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_count: Mapped[int] = mapped_column(Integer, default=0)


class FlaggedTicket(Base):
    """How many flagged rows of one kind a ticket has, for the tickets that have any.

    ``kind`` ``sla_warned``: running SLA clocks the scan (or a transition) marked warned;
    ``promise_overdue``: open promises the promise scan marked overdue. Triggers on
    ``sla_clocks`` and ``follow_ups`` (migration 0046) add and subtract one per row
    entering or leaving the flagged state, and delete the row at zero, so a row exists
    exactly while the ticket has a flagged row: that is what makes the per-workspace
    count below a count of distinct tickets.
    """

    __tablename__ = "flagged_tickets"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(Integer, default=0)


class FlaggedTicketCount(Base):
    """Tickets of a workspace with a ``flagged_tickets`` row of one kind (kept by
    triggers on ``flagged_tickets``): the "SLA at risk" and "Promises due" counts start
    from it instead of reading every clock or promise (sla/views.py, store/repos)."""

    __tablename__ = "flagged_ticket_counts"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_count: Mapped[int] = mapped_column(Integer, default=0)
