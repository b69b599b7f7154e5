"""The staffing planner's arithmetic: Erlang C, pure functions, no database.

Erlang C models a queue served by ``agents`` people, with customers arriving at random
(Poisson) and each taking a random (exponential) time to handle, nobody giving up:

- traffic ``A`` (erlangs) = arrivals per second * average handle time in seconds;
- the probability that a customer waits at all, ``C(N, A)``, from Erlang B's
  recursion ``B(0) = 1, B(k) = A·B(k-1) / (k + A·B(k-1))``, then
  ``C = N·B / (N - A·(1 - B))`` (numerically stable for hundreds of agents, where the
  textbook factorials overflow);
- service level, the share answered within ``T`` seconds:
  ``1 - C · exp(-(N - A) · T / AHT)``;
- average speed of answer: ``C · AHT / (N - A)``.

With ``N ≤ A`` the queue grows without end: every customer waits, service level 0.
The definitions and their limits are written out in docs/reports.md (*Staffing*)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

# No plan asks for more people than this in one hour; beyond it the input is wrong.
MAX_AGENTS = 10_000
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def traffic_erlangs(arrivals_per_hour: float, handle_seconds: float) -> float:
    """The workload in erlangs: how many agents would be busy all the time."""
    if arrivals_per_hour < 0 or handle_seconds < 0:
        raise ValueError("arrivals and handle time cannot be negative")
    return arrivals_per_hour * handle_seconds / 3600


def probability_of_waiting(agents: int, erlangs: float) -> float:
    """Erlang C: the probability that a customer is not answered at once."""
    if agents < 0 or erlangs < 0:
        raise ValueError("agents and traffic cannot be negative")
    if erlangs == 0:
        return 0.0
    if agents <= erlangs:
        return 1.0
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = erlangs * blocking / (k + erlangs * blocking)
    return agents * blocking / (agents - erlangs * (1 - blocking))


def service_level(
    agents: int, arrivals_per_hour: float, handle_seconds: float, within_seconds: float
) -> float:
    """The share of customers answered within ``within_seconds``."""
    erlangs = traffic_erlangs(arrivals_per_hour, handle_seconds)
    if erlangs == 0:
        return 1.0
    if agents <= erlangs:
        return 0.0
    waits = probability_of_waiting(agents, erlangs)
    return max(0.0, 1 - waits * math.exp(-(agents - erlangs) * within_seconds / handle_seconds))


def average_speed_of_answer(agents: int, arrivals_per_hour: float, handle_seconds: float) -> float:
    """Mean seconds a customer waits before an agent takes them (inf when overloaded)."""
    erlangs = traffic_erlangs(arrivals_per_hour, handle_seconds)
    if erlangs == 0:
        return 0.0
    if agents <= erlangs:
        return math.inf
    return probability_of_waiting(agents, erlangs) * handle_seconds / (agents - erlangs)


def agents_needed(
    arrivals_per_hour: float, handle_seconds: float, target: float, within_seconds: float
) -> int:
    """The fewest agents answering at least ``target`` (0 to 1) of the customers within
    ``within_seconds``; 0 when nobody arrives."""
    if not 0 < target < 1:
        raise ValueError("the target is a share between 0 and 1, e.g. 0.8")
    if within_seconds < 0:
        raise ValueError("within_seconds cannot be negative")
    erlangs = traffic_erlangs(arrivals_per_hour, handle_seconds)
    if erlangs == 0:
        return 0
    # Erlang B's recursion walked once, upward: each step gives the next head count's
    # probability of waiting without starting again from one agent.
    blocking = 1.0
    for agents in range(1, MAX_AGENTS + 1):
        blocking = erlangs * blocking / (agents + erlangs * blocking)
        if agents <= erlangs:
            continue
        waits = agents * blocking / (agents - erlangs * (1 - blocking))
        level = 1 - waits * math.exp(-(agents - erlangs) * within_seconds / handle_seconds)
        if level >= target:
            return agents
    raise ValueError(f"more than {MAX_AGENTS} agents would be needed")


# -- the week's plan ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HourPlan:
    """One hour of the week: the workload it had and the people it needs."""

    weekday: int  # 0 = Monday
    hour: int
    arrivals_per_hour: float
    agents_needed: int
    service_level: float | None  # with that many agents; None when nobody arrives
    agents_active: float  # distinct agents who answered in that hour, on average

    def as_json(self) -> dict[str, object]:
        return {
            "weekday": self.weekday,
            "day": WEEKDAYS[self.weekday],
            "hour": self.hour,
            "arrivals_per_hour": round(self.arrivals_per_hour, 2),
            "agents_needed": self.agents_needed,
            "service_level": None if self.service_level is None else round(self.service_level, 4),
            "agents_active": round(self.agents_active, 2),
        }


Slot = tuple[int, int]  # (weekday, hour) in the workspace's time zone


def weekly_arrivals(moments: Iterable[datetime], zone: tzinfo, weeks: int) -> dict[Slot, float]:
    """Average arrivals in each hour of the week over ``weeks`` weeks of history."""
    if weeks < 1:
        raise ValueError("at least one week of history")
    counts: dict[Slot, int] = {}
    for at in moments:
        local = at.astimezone(zone)
        slot = (local.weekday(), local.hour)
        counts[slot] = counts.get(slot, 0) + 1
    return {slot: count / weeks for slot, count in counts.items()}


def weekly_presence(
    answers: Iterable[tuple[datetime, int]], zone: tzinfo, weeks: int
) -> dict[Slot, float]:
    """Distinct agents who answered in each hour of the week, averaged over ``weeks``:
    how the desk was actually staffed."""
    seen: set[tuple[datetime, int]] = set()
    for at, agent in answers:
        local = at.astimezone(zone).replace(minute=0, second=0, microsecond=0)
        seen.add((local, agent))
    per_slot: dict[Slot, int] = {}
    for local, _ in seen:
        slot = (local.weekday(), local.hour)
        per_slot[slot] = per_slot.get(slot, 0) + 1
    return {slot: count / weeks for slot, count in per_slot.items()}


def weekly_plan(
    arrivals: Mapping[Slot, float],
    handle_seconds: float,
    target: float,
    within_seconds: float,
    presence: Mapping[Slot, float] | None = None,
) -> list[HourPlan]:
    """All 168 hours of the week, Monday 00:00 first."""
    plan: list[HourPlan] = []
    for weekday in range(7):
        for hour in range(24):
            rate = arrivals.get((weekday, hour), 0.0)
            agents = agents_needed(rate, handle_seconds, target, within_seconds)
            level = service_level(agents, rate, handle_seconds, within_seconds) if rate else None
            active = (presence or {}).get((weekday, hour), 0.0)
            plan.append(HourPlan(weekday, hour, rate, agents, level, active))
    return plan


def history_window(now: datetime, weeks: int) -> tuple[datetime, datetime]:
    """The last ``weeks`` whole weeks before ``now`` (each hour of the week seen
    exactly ``weeks`` times), as [since, until)."""
    until = now.replace(minute=0, second=0, microsecond=0)
    return until - timedelta(weeks=weeks), until


# -- an entered forecast ------------------------------------------------------------

HOURS_OF_WEEK = 168


def parse_forecast(text: str) -> dict[Slot, float]:
    """An entered forecast: 168 comma-separated arrivals per hour, Monday 00:00 first
    (the plan's own order, so a CSV column pasted back reads right)."""
    parts = [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]
    if len(parts) != HOURS_OF_WEEK:
        raise ValueError(f"a forecast has 168 hourly values, Monday 00:00 first; got {len(parts)}")
    values: list[float] = []
    for position, part in enumerate(parts):
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"forecast value {position + 1} is not a number: {part!r}") from None
        if not 0 <= value <= 100_000:
            raise ValueError(f"forecast value {position + 1} must be between 0 and 100000")
        values.append(value)
    return {(i // 24, i % 24): v for i, v in enumerate(values) if v}


def scaled(arrivals: Mapping[Slot, float], growth: float) -> dict[Slot, float]:
    """History times an expected growth ("a campaign next week: +30%" is 1.3)."""
    return {slot: rate * growth for slot, rate in arrivals.items()}


# -- the coverage each channel actually had -------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelCoverage:
    """When a channel was actually answered: the share of the weeks in which someone
    answered on it in each hour of the week, its staffed hours and its opening hours."""

    channel: str
    # (weekday, hour) -> share of the weeks with at least one answer in that hour.
    answered_share: dict[Slot, float]

    @property
    def staffed_hours(self) -> int:
        """Hours of the week answered in at least half of the weeks."""
        return sum(1 for share in self.answered_share.values() if share >= 0.5)

    @property
    def round_the_clock(self) -> bool:
        return self.staffed_hours == HOURS_OF_WEEK

    def opening_hours(self) -> list[str]:
        """Each day's staffed ranges in words: "Mon 08:00-18:00"."""
        described: list[str] = []
        for weekday in range(7):
            ranges: list[tuple[int, int]] = []
            for hour in range(24):
                if self.answered_share.get((weekday, hour), 0.0) < 0.5:
                    continue
                if ranges and ranges[-1][1] == hour:
                    ranges[-1] = (ranges[-1][0], hour + 1)
                else:
                    ranges.append((hour, hour + 1))
            for start, end in ranges:
                described.append(f"{WEEKDAYS[weekday]} {start:02d}:00-{end:02d}:00")
        return described

    def as_json(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "staffed_hours_per_week": self.staffed_hours,
            "round_the_clock": self.round_the_clock,
            "opening_hours": self.opening_hours(),
            "answered_share": [
                round(self.answered_share.get((d, h), 0.0), 3) for d in range(7) for h in range(24)
            ],
        }


def channel_coverage(
    answers: Iterable[tuple[datetime, str]], zone: tzinfo, weeks: int
) -> list[ChannelCoverage]:
    """From (moment, channel) of every agent answer over ``weeks`` whole weeks: per
    channel, the share of weeks in which each hour of the week had an answer."""
    if weeks < 1:
        raise ValueError("at least one week of history")
    seen: dict[str, set[datetime]] = {}
    for at, channel in answers:
        local = at.astimezone(zone).replace(minute=0, second=0, microsecond=0)
        seen.setdefault(channel, set()).add(local)
    coverage: list[ChannelCoverage] = []
    for channel in sorted(seen):
        per_slot: dict[Slot, int] = {}
        for local in seen[channel]:
            slot = (local.weekday(), local.hour)
            per_slot[slot] = per_slot.get(slot, 0) + 1
        shares = {slot: min(1.0, count / weeks) for slot, count in per_slot.items()}
        coverage.append(ChannelCoverage(channel, shares))
    return coverage
