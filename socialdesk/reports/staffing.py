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
