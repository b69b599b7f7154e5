"""Service levels, routing and automation: SLA policies and clocks, team routing settings,
automation rules, in-app notifications, follow-ups and CSAT answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.store.models.base import Base, BigId, created_at_column


class SlaPolicy(Base):
    """Targets by channel and priority, a business calendar (or 24/7) and clock rules.

    ``targets`` rows: ``{"channel": "x" | null, "priority": "high" | null,
    "first_response_minutes", "next_response_minutes", "resolution_minutes"}`` (each
    target may be null = not measured); the most specific row wins. ``calendar`` is
    null for 24/7 or ``{"timezone", "hours": {"mon": [["09:00", "17:00"]], ...},
    "country", "subdivision", "custom_holidays": ["2025-12-24"]}``.
    """

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    # Lower first; the first enabled policy whose channels include the ticket's wins.
    position: Mapped[int] = mapped_column(default=0)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Platforms this policy covers; empty = every channel.
    channels: Mapped[list[Any]] = mapped_column(default=list)
    targets: Mapped[list[Any]] = mapped_column(default=list)
    calendar: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    pause_on_hold: Mapped[bool] = mapped_column(default=False)
    warn_share: Mapped[float] = mapped_column(default=0.75)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class SlaClock(Base):
    """One measured target of one ticket (one cycle for next response / resolution).

    ``next_check_at`` is the next instant the periodic scan has work on this row (the
    warning, then the deadline); null while paused, fulfilled or already breached, so
    the scan is one range read of an index however many tickets are open.
    """

    __tablename__ = "sla_clocks"
    __table_args__ = (
        Index("ix_sla_clocks_next_check", "next_check_at"),
        Index("ix_sla_clocks_ticket", "ticket_id", "target", "cycle"),
        Index("ix_sla_clocks_ws_status_due", "workspace_id", "status", "due_at"),
        # "SLA at risk": running clocks past their warning instant, one index range.
        Index(
            "ix_sla_clocks_ws_status_warning", "workspace_id", "status", "warning_at", "ticket_id"
        ),
        # Its count: the running clocks not yet marked warned whose warning instant passed
        # (crossed since the last scan) are a short range; the marked ones are counted
        # by triggers (flagged_tickets, migration 0046).
        Index(
            "ix_sla_clocks_ws_status_warned",
            "workspace_id",
            "status",
            "warned",
            "warning_at",
            "ticket_id",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL"), default=None
    )
    target: Mapped[str] = mapped_column(String(20))
    cycle: Mapped[int] = mapped_column(default=1)
    target_seconds: Mapped[float] = mapped_column()
    warn_share: Mapped[float] = mapped_column(default=0.75)
    # running, paused or fulfilled.
    status: Mapped[str] = mapped_column(String(12), default="running")
    started_at: Mapped[datetime]
    running_since: Mapped[datetime | None] = mapped_column(default=None)
    paused_since: Mapped[datetime | None] = mapped_column(default=None)
    # Business seconds run before ``running_since`` (everything, once paused or fulfilled).
    elapsed_seconds: Mapped[float] = mapped_column(default=0.0)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    warning_at: Mapped[datetime | None] = mapped_column(default=None)
    warned: Mapped[bool] = mapped_column(default=False)
    breached: Mapped[bool] = mapped_column(default=False)
    breached_at: Mapped[datetime | None] = mapped_column(default=None)
    fulfilled_at: Mapped[datetime | None] = mapped_column(default=None)
    next_check_at: Mapped[datetime | None] = mapped_column(default=None)


class TeamRouting(Base):
    """How tickets are spread inside a team; a team without a row is not auto-routed."""

    __tablename__ = "team_routing"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # round_robin or least_loaded.
    strategy: Mapped[str] = mapped_column(String(20), default="least_loaded")
    overflow_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    # Round robin continues after this agent.
    last_assigned_user_id: Mapped[int | None] = mapped_column(default=None)


class AutomationRule(Base):
    """event → conditions → actions, stored as JSON (see socialdesk/automation)."""

    __tablename__ = "automation_rules"
    __table_args__ = (Index("ix_automation_rules_ws_event", "workspace_id", "event", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(30))
    conditions: Mapped[list[Any]] = mapped_column(default=list)
    actions: Mapped[list[Any]] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class Notification(Base):
    """An in-app notification for a user (or every member of a team)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), default=None
    )
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created_at_column()
    read_at: Mapped[datetime | None] = mapped_column(default=None)


class FollowUp(Base):
    """A promise made in a reply ("I'll get back to you") that is due to be kept."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_follow_ups_status_due", "status", "due_at"),
        Index("ix_follow_ups_user_status", "user_id", "status", "due_at"),
        # A ticket's open promises (a reply keeps them; the due count's overlap test).
        Index("ix_follow_ups_ticket_status", "ticket_id", "status"),
        # "Promises due": open promises not yet marked overdue and past due, a short range
        # (the marked ones are counted by triggers, migration 0046).
        Index(
            "ix_follow_ups_ws_status_overdue",
            "workspace_id",
            "status",
            "overdue_at",
            "due_at",
            "ticket_id",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    phrase: Mapped[str] = mapped_column(String(200), default="")
    due_at: Mapped[datetime]
    # open, done or cancelled.
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = created_at_column()
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the periodic scan found it overdue and put its ticket back in the queue: set
    # once, so the promiser is notified once (automation/followups.py).
    overdue_at: Mapped[datetime | None] = mapped_column(default=None)


class CsatResponse(Base):
    """A customer's satisfaction answer (1-5)."""

    __tablename__ = "csat_responses"
    __table_args__ = (Index("ix_csat_responses_ticket", "ticket_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")
    # customer_message or api.
    source: Mapped[str] = mapped_column(String(20), default="api")
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = created_at_column()
