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


@dataclass(frozen=True, slots=True)
class Retarget:
    """What a target change did to one clock (recorded as an ``sla_retargeted`` event)."""

    old_duration: timedelta
    new_duration: timedelta
    old_due_at: datetime | None
    new_due_at: datetime | None
    elapsed: timedelta  # business time already spent, kept across the change
    kept_breached: bool  # the clock had breached before; it stays breached


def retarget_clock(
    cal: BusinessCalendar, clock: Clock, duration: timedelta, at: datetime
) -> Retarget | None:
    """Give an unfulfilled clock a new target duration at ``at`` (a priority change).

    The due instant is recomputed from the clock's start in business time: the time
    already spent (paused time excluded) is kept and counts against the new target, so
    ``due = running_since + (new target - elapsed)`` in business time, which may lie in
    the past (the next scan then records the breach and runs the breach rules). A clock
    that already breached stays breached with its original due instant: the ticket *was*
    late, and a later priority change does not rewrite that. A warning already sent is
    withdrawn when the new target puts the warning instant back in the future, so the
    scan warns again at the new instant. ``None`` when nothing changes.
    """
    if duration < _ZERO:
        raise ValueError("an SLA target must not be negative")
    if clock.status == ClockStatus.FULFILLED or duration == clock.duration:
        return None
    old_duration, old_due = clock.duration, clock.due_at
    spent = clock.elapsed_at(cal, max(at, clock.running_since or at))
    clock.duration = duration
    clock.dirty = True
    if clock.breached:
        return Retarget(old_duration, duration, old_due, old_due, spent, kept_breached=True)
    if clock.warned and spent <= duration * clock.warn_share:
        clock.warned = False
    if clock.status == ClockStatus.RUNNING:
        _project(cal, clock)
    elif not clock.warned:
        clock.warning_at = None  # paused short of the warning: nothing approaches
    return Retarget(old_duration, duration, old_due, clock.due_at, spent, kept_breached=False)
