"""SLA clocks as a pure fold over events.

One clock measures one target for one ticket: the first response, one next-response cycle
(customer wrote, agent has to answer) or the resolution. Its history is a set of
:class:`ClockEvent` values; :func:`evaluate_clock` folds them into a :class:`ClockState` as of
a given ``now``. Evaluation depends only on the events' contents, not on the order they are
passed in, so events may be stored and replayed in whatever order they arrived.

Event semantics:

* Events after ``now`` are ignored: the state is what was true at ``now``.
* Events are sorted by time; at equal times start < pause < resume < fulfil, so a pause and
  a resume at the same instant leave the clock running, and a fulfil at the start instant
  counts as on time.
* Nothing happens before the earliest ``start``; pause, resume and fulfil events before it are
  ignored. Later starts are duplicates and are ignored too (the first start's target
  duration wins; among starts at the same instant, the shortest duration).
* ``pause`` while paused and ``resume`` while running are ignored, so repeated deliveries do
  not double count.
* ``fulfil`` ends the clock, running or paused; everything after it is ignored. A new cycle
  (the next customer message) is a new clock with its own events.

Deadlines: the clock is *due* at the instant its running business time reaches the target
(``due = start + target + business time spent paused``). It is *breached* when it is still
running strictly after that instant, so fulfilling or pausing exactly at the deadline is on
time. Warnings use the same rule at ``warn_at_share`` of the target.

For the periodic scan, persist ``due_at`` and ``warning_at`` from the state and let
:func:`scan_due` compare them with the current time; paused clocks store ``None`` because their
deadline is not moving towards them.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from socialdesk.domain.business_hours import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
)

__all__ = [
    "ClockEvent",
    "ClockEventKind",
    "ClockRow",
    "ClockState",
    "ClockStatus",
    "DueNotice",
    "NoticeKind",
    "SlaTarget",
    "evaluate_clock",
    "scan_due",
]

_ZERO = timedelta(0)


class SlaTarget(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class ClockEventKind(StrEnum):
    START = "start"  # a target begins, carrying its target duration
    PAUSE = "pause"  # ticket waits on the customer or is on hold
    RESUME = "resume"  # the wait is over
    FULFIL = "fulfil"  # agent replied / ticket solved


# Tie-break for events at the same instant; see the module docstring.
_RANK: dict[ClockEventKind, int] = {
    ClockEventKind.START: 0,
    ClockEventKind.PAUSE: 1,
    ClockEventKind.RESUME: 2,
    ClockEventKind.FULFIL: 3,
}


class ClockStatus(StrEnum):
    NOT_STARTED = "not_started"  # no start event at or before ``now``
    RUNNING = "running"
    PAUSED = "paused"  # ``breached`` may still be set if the deadline passed before the pause
    FULFILLED = "fulfilled"
    BREACHED_RUNNING = "breached_running"
    BREACHED_FULFILLED = "breached_fulfilled"


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class ClockEvent:
    """Something that happened to one clock. Use the ``start``/``pause``/... constructors."""

    kind: ClockEventKind
    at: datetime
    target: SlaTarget | None = None
    duration: timedelta | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ClockEventKind(self.kind))
        object.__setattr__(self, "at", _utc(self.at, "at"))
        if self.kind is ClockEventKind.START:
            if self.target is None or self.duration is None:
                raise ValueError("a start event needs a target and a duration")
            object.__setattr__(self, "target", SlaTarget(self.target))
            if self.duration < _ZERO:
                raise ValueError(f"target duration must not be negative, got {self.duration}")
        elif self.target is not None or self.duration is not None:
            raise ValueError(f"only start events carry a target, not {self.kind}")

    @classmethod
    def start(cls, at: datetime, target: SlaTarget, duration: timedelta) -> ClockEvent:
        return cls(ClockEventKind.START, at, target, duration)

    @classmethod
    def pause(cls, at: datetime) -> ClockEvent:
        return cls(ClockEventKind.PAUSE, at)

    @classmethod
    def resume(cls, at: datetime) -> ClockEvent:
        return cls(ClockEventKind.RESUME, at)

    @classmethod
    def fulfil(cls, at: datetime) -> ClockEvent:
        return cls(ClockEventKind.FULFIL, at)

    def _sort_key(self) -> tuple[datetime, int, timedelta]:
        return (self.at, _RANK[self.kind], self.duration or _ZERO)


@dataclass(frozen=True, slots=True)
class ClockState:
    """A clock as of ``now``. All datetimes are UTC.

    ``elapsed`` is running business time (paused time excluded) and keeps growing after a
    breach. ``due_at``/``warning_at`` are the instants the target/warning threshold is or
    was reached; once reached they are fixed, before that they are projections that assume
    the clock keeps running. They are ``None`` while the clock is paused short of them
    (or was fulfilled while paused), since no deadline is approaching then.
    """

    status: ClockStatus
    target: SlaTarget | None
    target_duration: timedelta | None
    started_at: datetime | None
    elapsed: timedelta
    remaining: timedelta | None  # target minus elapsed, floored at zero
    due_at: datetime | None
    warning_at: datetime | None
    warned: bool
    breached: bool
    breached_at: datetime | None
    fulfilled_at: datetime | None
    paused_since: datetime | None


class _Fold:
    """Accumulates running segments; one instance per evaluation."""

    def __init__(self, cal: BusinessCalendar, duration: timedelta, share: float) -> None:
        self.cal = cal
        self.target = duration
        self.warn_target = duration * share
        self.elapsed = _ZERO
        self.warned_at: datetime | None = None
        self.breached_at: datetime | None = None
        self.projected_warning: datetime | None = None
        self.projected_due: datetime | None = None

    def _reached(
        self, start: datetime, end: datetime, before: timedelta, threshold: timedelta, project: bool
    ) -> tuple[datetime | None, datetime | None]:
        """(passed_at, projection) for one threshold over the segment ``[start, end)``."""
        # Skip the due-time search when the segment cannot reach the threshold; it is the
        # only costly step and most closed segments are short of it.
        if not project and self.elapsed < threshold:
            return None, None
        instant = add_business_time(self.cal, start, max(threshold - before, _ZERO))
        if end > instant:
            return instant, None
        return None, instant if project else None

    def run(self, start: datetime, end: datetime, *, project: bool) -> None:
        """Count ``[start, end)`` as running. ``project`` marks the segment that is still
        running at ``now`` or was ended by the fulfil, whose deadlines the state reports."""
        before = self.elapsed
        self.elapsed += business_time_between(self.cal, start, end)
        if self.warned_at is None:
            self.warned_at, self.projected_warning = self._reached(
                start, end, before, self.warn_target, project
            )
        if self.breached_at is None:
            self.breached_at, self.projected_due = self._reached(
                start, end, before, self.target, project
            )


def evaluate_clock(
    calendar: BusinessCalendar,
    events: Iterable[ClockEvent],
    now: datetime,
    warn_at_share: float = 0.75,
) -> ClockState:
    """Fold ``events`` into the clock's state as of ``now`` (see the module docstring).

    Raises ValueError for a naive ``now``, a ``warn_at_share`` outside (0, 1], or start
    events that name different targets.
    """
    now = _utc(now, "now")
    if not 0 < warn_at_share <= 1:
        raise ValueError(f"warn_at_share must be in (0, 1], got {warn_at_share}")
    all_events = list(events)
    targets = {e.target for e in all_events if e.kind is ClockEventKind.START}
    if len(targets) > 1:
        raise ValueError(f"one clock measures one target, got {sorted(map(str, targets))}")
    ordered = sorted((e for e in all_events if e.at <= now), key=ClockEvent._sort_key)

    first = next((e for e in ordered if e.kind is ClockEventKind.START), None)
    if first is None:
        return ClockState(
            status=ClockStatus.NOT_STARTED,
            target=None,
            target_duration=None,
            started_at=None,
            elapsed=_ZERO,
            remaining=None,
            due_at=None,
            warning_at=None,
            warned=False,
            breached=False,
            breached_at=None,
            fulfilled_at=None,
            paused_since=None,
        )
    assert first.target is not None and first.duration is not None  # checked by ClockEvent

    fold = _Fold(calendar, first.duration, warn_at_share)
    running_since: datetime | None = first.at
    paused_since: datetime | None = None
    fulfilled_at: datetime | None = None
    for event in ordered:
        if event.at < first.at or event is first or event.kind is ClockEventKind.START:
            continue
        if event.kind is ClockEventKind.PAUSE:
            if running_since is not None:
                fold.run(running_since, event.at, project=False)
                running_since, paused_since = None, event.at
        elif event.kind is ClockEventKind.RESUME:
            if running_since is None:
                running_since, paused_since = event.at, None
        else:
            fulfilled_at = event.at
            if running_since is not None:
                fold.run(running_since, event.at, project=True)
            running_since = None
            break
    if running_since is not None:
        fold.run(running_since, now, project=True)

    breached = fold.breached_at is not None
    if fulfilled_at is not None:
        status = ClockStatus.BREACHED_FULFILLED if breached else ClockStatus.FULFILLED
    elif running_since is None:
        status = ClockStatus.PAUSED
    else:
        status = ClockStatus.BREACHED_RUNNING if breached else ClockStatus.RUNNING
    return ClockState(
        status=status,
        target=first.target,
        target_duration=first.duration,
        started_at=first.at,
        elapsed=fold.elapsed,
        remaining=max(first.duration - fold.elapsed, _ZERO),
        due_at=fold.breached_at or fold.projected_due,
        warning_at=fold.warned_at or fold.projected_warning,
        warned=fold.warned_at is not None,
        breached=breached,
        breached_at=fold.breached_at,
        fulfilled_at=fulfilled_at,
        paused_since=paused_since,
    )


class NoticeKind(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


class ClockRow(NamedTuple):
    """What the periodic scan needs from a stored clock; a database row maps onto it as is.

    ``warning_at``/``due_at`` are the values from the clock's last evaluation (``None`` when
    paused or fulfilled); ``warned``/``breached`` record that the notice was already sent.
    """

    clock_id: Hashable
    warning_at: datetime | None
    due_at: datetime | None
    warned: bool
    breached: bool


class DueNotice(NamedTuple):
    clock_id: Hashable
    kind: NoticeKind
    at: datetime  # the instant that was crossed


def scan_due(rows: Iterable[ClockRow], now: datetime) -> list[DueNotice]:
    """Which clocks need a warning or breach notice at ``now``.

    Idempotent: rows already marked breached are skipped, and rows already marked warned
    get no second warning. A breach supersedes a pending warning (one notice per row per
    scan). Deadlines fire once ``now`` is strictly past them, like in :func:`evaluate_clock`.
    Per row this is a couple of comparisons; rows are plain tuples so a query result can be
    passed straight in.
    """
    now = _utc(now, "now")
    notices: list[DueNotice] = []
    append = notices.append
    for clock_id, warning_at, due_at, warned, breached in rows:
        if breached:
            continue
        if due_at is not None and due_at < now:
            append(DueNotice(clock_id, NoticeKind.BREACH, due_at))
        elif not warned and warning_at is not None and warning_at < now:
            append(DueNotice(clock_id, NoticeKind.WARNING, warning_at))
    return notices
