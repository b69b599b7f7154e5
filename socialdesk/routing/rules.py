"""Routing decisions as pure functions: which team matches a ticket, which agent of the
team takes it, overflow when nobody can. Every decision carries its explanation, which
the ticket event stores as is.

Skills are ``dimension:value`` strings (``language:es``, ``channel:x``, ``product:billing``,
``intent:praise``, and from the triage ``sentiment:negative``, ``topic:lost luggage``,
``urgency:high``). A team qualifies when, for every dimension it lists, the ticket's value
is one of the team's values (a team without skills takes anything); among qualifying
teams the one matching the most skills wins, then the lowest id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class Strategy:
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    ALL = (ROUND_ROBIN, LEAST_LOADED)


MAX_OVERFLOW_HOPS = 3


def ticket_attributes(
    *,
    platform: str | None = None,
    language: str | None = None,
    intent: str | None = None,
    priority: str | None = None,
    tags: Iterable[str] = (),
    extra: Mapping[str, str] | None = None,
    sentiment: str | None = None,
    topic: str | None = None,
    urgency: int | None = None,
) -> dict[str, set[str]]:
    """The ticket's value(s) per dimension; tags also count as ``product`` values. The
    triage gives ``sentiment``, ``topic`` and ``urgency`` (a band: ``urgency_band``)."""
    attrs: dict[str, set[str]] = {}
    for dimension, value in (
        ("channel", platform),
        ("language", language),
        ("intent", intent),
        ("priority", priority),
        ("sentiment", sentiment),
        ("topic", topic),
        ("urgency", urgency_band(urgency)),
    ):
        if value:
            attrs[dimension] = {value.lower()}
    tag_values = {t.lower() for t in tags}
    if tag_values:
        attrs["tag"] = tag_values
        attrs["product"] = set(tag_values)
    for dimension, value in (extra or {}).items():
        attrs.setdefault(dimension.lower(), set()).add(value.lower())
    return attrs


# Urgency (0-100) as a skill value: "urgency:high" takes 70 and up, "urgency:medium" 40-69,
# "urgency:low" the rest; the inbox shows urgency from 50, so "high" is the clearly urgent.
URGENCY_BANDS = ((70, "high"), (40, "medium"), (0, "low"))


def urgency_band(urgency: int | None) -> str | None:
    if urgency is None:
        return None
    return next(name for floor, name in URGENCY_BANDS if urgency >= floor)


def parse_skill(skill: str) -> tuple[str, str]:
    dimension, sep, value = skill.partition(":")
    if not sep or not dimension.strip() or not value.strip():
        raise ValueError(f"skills are 'dimension:value' like 'language:es', got {skill!r}")
    return dimension.strip().lower(), value.strip().lower()


@dataclass(frozen=True)
class TeamSpec:
    id: int
    name: str
    skills: frozenset[str]
    strategy: str = Strategy.LEAST_LOADED
    overflow_team_id: int | None = None
    last_assigned_user_id: int | None = None


@dataclass(frozen=True)
class AgentLoad:
    user_id: int
    on_shift: bool
    active: bool
    capacity: int | None  # max open tickets; None = no limit
    open_tickets: int

    @property
    def available(self) -> bool:
        return self.active and self.on_shift and not self.full

    @property
    def full(self) -> bool:
        return self.capacity is not None and self.open_tickets >= self.capacity


@dataclass(frozen=True)
class TeamMatch:
    team: TeamSpec
    matched: tuple[str, ...]


def match_team(teams: Sequence[TeamSpec], attrs: Mapping[str, set[str]]) -> TeamMatch | None:
    best: TeamMatch | None = None
    for team in sorted(teams, key=lambda t: t.id):
        wanted: dict[str, set[str]] = {}
        for skill in team.skills:
            dimension, value = parse_skill(skill)
            wanted.setdefault(dimension, set()).add(value)
        matched: list[str] = []
        qualifies = True
        for dimension, values in wanted.items():
            hits = attrs.get(dimension, set()) & values
            if not hits:
                qualifies = False
                break
            matched.extend(f"{dimension}:{v}" for v in sorted(hits))
        if qualifies and (best is None or len(matched) > len(best.matched)):
            best = TeamMatch(team, tuple(sorted(matched)))
    return best


@dataclass(frozen=True)
class AgentChoice:
    user_id: int
    reason: str
    skipped: tuple[dict[str, Any], ...] = ()


def _skip_reason(agent: AgentLoad) -> str:
    if not agent.active:
        return "inactive"
    if not agent.on_shift:
        return "off shift"
    return f"at capacity {agent.open_tickets}/{agent.capacity}"


def choose_agent(
    agents: Sequence[AgentLoad],
    strategy: str,
    last_assigned_user_id: int | None = None,
    exclude: Iterable[int] = (),
) -> AgentChoice | None:
    """An available agent by the team's strategy, or ``None`` when nobody can take it."""
    excluded = set(exclude)
    skipped = tuple(
        {"user_id": a.user_id, "reason": "excluded" if a.user_id in excluded else _skip_reason(a)}
        for a in sorted(agents, key=lambda a: a.user_id)
        if a.user_id in excluded or not a.available
    )
    free = sorted(
        (a for a in agents if a.available and a.user_id not in excluded), key=lambda a: a.user_id
    )
    if not free:
        return None
    if strategy == Strategy.ROUND_ROBIN:
        after = [
            a for a in free if last_assigned_user_id is None or a.user_id > last_assigned_user_id
        ]
        chosen = (after or free)[0]
        return AgentChoice(
            chosen.user_id, f"round robin after user {last_assigned_user_id}", skipped
        )
    chosen = min(free, key=lambda a: (a.open_tickets, a.user_id))
    cap = "∞" if chosen.capacity is None else str(chosen.capacity)
    return AgentChoice(chosen.user_id, f"least loaded ({chosen.open_tickets}/{cap} open)", skipped)


@dataclass
class Decision:
    team_id: int | None
    assignee_id: int | None
    explanation: dict[str, Any] = field(default_factory=dict)


def route(
    teams: Sequence[TeamSpec],
    agents_of: Mapping[int, Sequence[AgentLoad]],
    attrs: Mapping[str, set[str]],
    *,
    preset_team_id: int | None = None,
    exclude: Iterable[int] = (),
) -> Decision:
    """Team (preset by a rule or matched on skills), then an agent, overflowing along
    ``overflow_team_id`` when the team has nobody available."""
    by_id = {t.id: t for t in teams}
    if preset_team_id is not None and preset_team_id in by_id:
        team: TeamSpec | None = by_id[preset_team_id]
        how: dict[str, Any] = {"via": "already set"}
    else:
        match = match_team(teams, attrs)
        team = match.team if match else None
        how = {"via": "skills", "matched": list(match.matched)} if match else {}
    if team is None:
        return Decision(None, None, {"rule": "routing", "outcome": "no team matches"})
    first_team = team
    hops: list[dict[str, Any]] = []
    seen: set[int] = set()
    while team is not None and team.id not in seen and len(hops) <= MAX_OVERFLOW_HOPS:
        seen.add(team.id)
        choice = choose_agent(
            agents_of.get(team.id, ()), team.strategy, team.last_assigned_user_id, exclude
        )
        if choice is not None:
            return Decision(
                team.id,
                choice.user_id,
                {
                    "rule": "routing",
                    "team": {"id": team.id, "name": team.name, **how},
                    "overflow": hops,
                    "strategy": team.strategy,
                    "chosen": choice.user_id,
                    "reason": choice.reason,
                    "skipped": list(choice.skipped),
                },
            )
        hops.append({"from_team": team.id, "reason": "no agent available"})
        team = by_id.get(team.overflow_team_id) if team.overflow_team_id is not None else None
    return Decision(
        first_team.id,
        None,
        {
            "rule": "routing",
            "team": {"id": first_team.id, "name": first_team.name, **how},
            "overflow": hops,
            "outcome": "queued for the team: nobody available",
        },
    )
