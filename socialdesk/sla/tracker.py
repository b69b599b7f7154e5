"""Which clocks a ticket change starts, pauses, resumes or fulfils. Pure: the caller
loads the clocks, feeds ticket changes in time order, then stores the clocks and records
``notes`` as ticket events.

* ticket created → first response and resolution start;
* customer message → next response starts once the first response is fulfilled and no
  response clock is running (a first response clock if none ever ran);
* agent reply → first / next response fulfilled;
* pending (and on hold when the policy says so) → running clocks pause; back to open
  → they resume; solved or closed → every clock is fulfilled; reopened → a new
  resolution cycle;
* priority changed → running and paused clocks take the new priority's targets
  (``retarget``; see ``clocks.retarget_clock``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from socialdesk.domain.enums import TicketEventKind, TicketStatus
from socialdesk.domain.sla_clock import SlaTarget
from socialdesk.sla.clocks import (
    Change,
    Clock,
    ClockStatus,
    fulfil_clock,
    pause_clock,
    resume_clock,
    retarget_clock,
    start_clock,
)
from socialdesk.sla.policies import PolicySpec, targets_for

_EVENT_OF: dict[Change, TicketEventKind] = {
    Change.STARTED: TicketEventKind.SLA_STARTED,
    Change.PAUSED: TicketEventKind.SLA_PAUSED,
    Change.RESUMED: TicketEventKind.SLA_RESUMED,
    Change.FULFILLED: TicketEventKind.SLA_FULFILLED,
    Change.BREACHED: TicketEventKind.SLA_BREACHED,
}
_RESPONSES = (SlaTarget.FIRST_RESPONSE, SlaTarget.NEXT_RESPONSE)
_CLOSED = frozenset({TicketStatus.SOLVED, TicketStatus.CLOSED})


@dataclass(slots=True)
class ClockNote:
    kind: TicketEventKind
    at: datetime
    data: dict[str, Any]


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass
class TicketClocks:
    policy: PolicySpec
    channel: str
    priority: str
    clocks: list[Clock] = field(default_factory=list)
    notes: list[ClockNote] = field(default_factory=list)

    # -- lookups ------------------------------------------------------------------

    def latest(self, target: SlaTarget) -> Clock | None:
        of_target = [c for c in self.clocks if c.target == target]
        return max(of_target, key=lambda c: c.cycle) if of_target else None

    def active(self, target: SlaTarget) -> Clock | None:
        clock = self.latest(target)
        return clock if clock is not None and clock.active else None

    # -- changes ------------------------------------------------------------------

    def _note(self, clock: Clock, changes: Sequence[Change], at: datetime) -> None:
        cal = self.policy.calendar
        for change in changes:
            data: dict[str, Any] = {
                "target": str(clock.target),
                "cycle": clock.cycle,
                "policy_id": self.policy.id,
            }
            when = at
            if change == Change.STARTED:
                data["target_minutes"] = clock.duration.total_seconds() / 60
                data["due_at"] = iso(clock.due_at)
            elif change == Change.RESUMED:
                data["due_at"] = iso(clock.due_at)
            elif change in (Change.PAUSED, Change.FULFILLED):
                data["elapsed_seconds"] = clock.elapsed_at(cal, at).total_seconds()
                data["breached"] = clock.breached
            elif change == Change.BREACHED:
                data["due_at"] = iso(clock.due_at)
                data["found_by"] = "transition"
                when = clock.breached_at or at
            self.notes.append(ClockNote(_EVENT_OF[change], when, data))

    def _start(self, target: SlaTarget, at: datetime) -> None:
        duration = targets_for(self.policy.targets, self.channel, self.priority).get(target)
        if duration is None or self.active(target) is not None:
            return
        previous = self.latest(target)
        clock = start_clock(
            self.policy.calendar,
            target,
            duration,
            at,
            warn_share=self.policy.warn_share,
            cycle=previous.cycle + 1 if previous else 1,
            policy_id=self.policy.id,
        )
        self.clocks.append(clock)
        self._note(clock, [Change.STARTED], at)

    def _each_active(self, targets: Sequence[SlaTarget], op: Any, at: datetime) -> None:
        for target in targets:
            clock = self.active(target)
            if clock is not None:
                self._note(clock, op(self.policy.calendar, clock, at), at)

    def created(self, at: datetime) -> None:
        self._start(SlaTarget.FIRST_RESPONSE, at)
        self._start(SlaTarget.RESOLUTION, at)

    def customer_message(self, at: datetime, *, answered_before: bool = False) -> None:
        if any(self.active(t) for t in _RESPONSES):
            return
        if self.latest(SlaTarget.FIRST_RESPONSE) is not None or answered_before:
            self._start(SlaTarget.NEXT_RESPONSE, at)
        else:
            self._start(SlaTarget.FIRST_RESPONSE, at)

    def agent_reply(self, at: datetime) -> None:
        self._each_active(_RESPONSES, fulfil_clock, at)

    def status_changed(self, old: str, new: str, at: datetime) -> None:
        if new == old:
            return
        every = (*_RESPONSES, SlaTarget.RESOLUTION)
        if new in _CLOSED:
            self._each_active(every, fulfil_clock, at)
            return
        pauses = new == TicketStatus.PENDING or (
            new == TicketStatus.ON_HOLD and self.policy.pause_on_hold
        )
        if pauses:
            self._each_active(every, pause_clock, at)
            return
        self._each_active(every, resume_clock, at)
        if old in _CLOSED:
            self._start(SlaTarget.RESOLUTION, at)

    def retarget(self, at: datetime, previous_priority: str | None = None) -> None:
        """The ticket's priority (``self.priority``, already the new one) changed: every
        clock still running or paused takes the target of the new priority. A target the
        new row does not measure keeps the clock's current one, so a running clock is never
        dropped silently."""
        targets = targets_for(self.policy.targets, self.channel, self.priority)
        for target in (*_RESPONSES, SlaTarget.RESOLUTION):
            clock, duration = self.active(target), targets.get(target)
            if clock is None or duration is None:
                continue
            moved = retarget_clock(self.policy.calendar, clock, duration, at)
            if moved is None:
                continue
            self.notes.append(
                ClockNote(
                    TicketEventKind.SLA_RETARGETED,
                    at,
                    {
                        "target": str(clock.target),
                        "cycle": clock.cycle,
                        "policy_id": self.policy.id,
                        "priority": {"from": previous_priority, "to": self.priority},
                        "from_minutes": moved.old_duration.total_seconds() / 60,
                        "to_minutes": moved.new_duration.total_seconds() / 60,
                        "old_due_at": iso(moved.old_due_at),
                        "new_due_at": iso(moved.new_due_at),
                        "elapsed_seconds": moved.elapsed.total_seconds(),
                        "breached": moved.kept_breached,
                    },
                )
            )

    # -- results ------------------------------------------------------------------

    def due_times(self) -> dict[str, datetime | None]:
        """The ticket's mirrored columns: due instants of the clocks still running."""

        def due(target: SlaTarget) -> datetime | None:
            clock = self.active(target)
            return clock.due_at if clock and clock.status == ClockStatus.RUNNING else None

        return {
            "first_response_due_at": due(SlaTarget.FIRST_RESPONSE),
            "next_response_due_at": due(SlaTarget.NEXT_RESPONSE),
            "resolution_due_at": due(SlaTarget.RESOLUTION),
        }

    @property
    def any_breached(self) -> bool:
        return any(c.breached for c in self.clocks)

    def apply_to(self, ticket: Any) -> None:
        """Copy due times, the breach flag and the policy onto a ticket object."""
        for name, value in self.due_times().items():
            setattr(ticket, name, value)
        if self.any_breached:
            ticket.sla_breached = True
        ticket.sla_policy_id = self.policy.id
