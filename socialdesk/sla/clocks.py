"""Incremental SLA clocks: the stored form of one clock and its transitions.

``domain/sla_clock.evaluate_clock`` folds a full event history; a desk with 200,000 open
tickets cannot refold every history on every change, so each clock row keeps what the
fold would carry (business time run so far, when it last started running, the projected
warning and due instants) and each transition updates it in O(1) calendar calls. The
property test in tests/sla/test_properties.py checks the two agree.

Same semantics as the fold: paused time does not count, a second pause or resume is
ignored, fulfilling or pausing exactly at the deadline is on time, and a clock is
breached once it runs strictly past its due instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from socialdesk.domain.business_hours import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
)
from socialdesk.domain.sla_clock import SlaTarget

_ZERO = timedelta(0)


class ClockStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    FULFILLED = "fulfilled"


class Change(StrEnum):
    """What a transition did; the caller turns each into a ticket event."""

    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    FULFILLED = "fulfilled"
    BREACHED = "breached"  # found on a transition (the scan may not have run yet)


@dataclass(slots=True)
class Clock:
    target: SlaTarget
    duration: timedelta
    warn_share: float
    started_at: datetime
    cycle: int = 1
    status: ClockStatus = ClockStatus.RUNNING
    running_since: datetime | None = None
    paused_since: datetime | None = None
    elapsed: timedelta = _ZERO
    due_at: datetime | None = None
    warning_at: datetime | None = None
    warned: bool = False
    breached: bool = False
    breached_at: datetime | None = None
    fulfilled_at: datetime | None = None
    id: int | None = None
    policy_id: int | None = None
    dirty: bool = field(default=True)

    @property
    def active(self) -> bool:
        return self.status != ClockStatus.FULFILLED

    @property
    def next_check_at(self) -> datetime | None:
        """When the periodic scan next has something to say about this clock."""
        if self.status != ClockStatus.RUNNING or self.breached:
            return None
        if not self.warned and self.warning_at is not None:
            return self.warning_at
        return self.due_at

    def elapsed_at(self, cal: BusinessCalendar, now: datetime) -> timedelta:
        """Running business time as of ``now`` (``now`` at or after the last change)."""
        if self.status == ClockStatus.RUNNING and self.running_since is not None:
            return self.elapsed + business_time_between(cal, self.running_since, now)
        return self.elapsed


def _project(cal: BusinessCalendar, clock: Clock) -> None:
    """Due and warning instants assuming the clock keeps running from ``running_since``."""
    assert clock.running_since is not None
    since = clock.running_since
    if not clock.breached:
        clock.due_at = add_business_time(cal, since, max(clock.duration - clock.elapsed, _ZERO))
    if not clock.warned:
        warn = clock.duration * clock.warn_share
        clock.warning_at = add_business_time(cal, since, max(warn - clock.elapsed, _ZERO))


def start_clock(
    cal: BusinessCalendar,
    target: SlaTarget,
    duration: timedelta,
    at: datetime,
    *,
    warn_share: float = 0.75,
    cycle: int = 1,
    policy_id: int | None = None,
) -> Clock:
    if duration < _ZERO:
        raise ValueError("an SLA target must not be negative")
    if not 0 < warn_share <= 1:
        raise ValueError(f"warn_share must be in (0, 1], got {warn_share}")
    clock = Clock(
        target=target,
        duration=duration,
        warn_share=warn_share,
        started_at=at,
        cycle=cycle,
        running_since=at,
        policy_id=policy_id,
    )
    _project(cal, clock)
    return clock


def _run_until(cal: BusinessCalendar, clock: Clock, at: datetime) -> list[Change]:
    """Close the running segment at ``at`` (clamped so time never runs backwards)."""
    assert clock.running_since is not None
    at = max(at, clock.running_since)
    clock.elapsed += business_time_between(cal, clock.running_since, at)
    changes: list[Change] = []
    if not clock.warned and clock.warning_at is not None and at > clock.warning_at:
        clock.warned = True
    if not clock.breached and clock.due_at is not None and at > clock.due_at:
        clock.breached = True
        clock.warned = True
        clock.breached_at = clock.due_at
        changes.append(Change.BREACHED)
    clock.running_since = None
    return changes


def pause_clock(cal: BusinessCalendar, clock: Clock, at: datetime) -> list[Change]:
    if clock.status != ClockStatus.RUNNING:
        return []
    changes = _run_until(cal, clock, at)
    clock.status = ClockStatus.PAUSED
    clock.paused_since = max(at, clock.started_at)
    if not clock.breached:
        clock.due_at = None
    if not clock.warned:
        clock.warning_at = None
    clock.dirty = True
    return [*changes, Change.PAUSED]


def resume_clock(cal: BusinessCalendar, clock: Clock, at: datetime) -> list[Change]:
    if clock.status != ClockStatus.PAUSED:
        return []
    clock.status = ClockStatus.RUNNING
    clock.running_since = max(at, clock.paused_since or at)
    clock.paused_since = None
    _project(cal, clock)
    clock.dirty = True
    return [Change.RESUMED]


def fulfil_clock(cal: BusinessCalendar, clock: Clock, at: datetime) -> list[Change]:
    if clock.status == ClockStatus.FULFILLED:
        return []
    changes: list[Change] = []
    if clock.status == ClockStatus.RUNNING:
        changes = _run_until(cal, clock, at)
        fulfilled = max(at, clock.started_at)
    else:
        fulfilled = max(at, clock.paused_since or at)
    clock.status = ClockStatus.FULFILLED
    clock.fulfilled_at = fulfilled
    clock.paused_since = None
    clock.dirty = True
    return [*changes, Change.FULFILLED]


def mark_notice(clock: Clock, kind: str) -> None:
    """Record a warning or breach the scan sent (``kind`` "warning" or "breach")."""
    clock.warned = True
    if kind == "breach":
        clock.breached = True
        clock.breached_at = clock.due_at
    clock.dirty = True
