from __future__ import annotations

import pytest

from socialdesk.routing.rules import (
    AgentLoad,
    Strategy,
    TeamSpec,
    choose_agent,
    match_team,
    parse_skill,
    route,
    ticket_attributes,
)

SUPPORT = TeamSpec(1, "support", frozenset())
SPANISH = TeamSpec(2, "spanish", frozenset({"language:es"}))
SOCIAL_ES = TeamSpec(3, "social es", frozenset({"language:es", "channel:x"}))
MARKETING = TeamSpec(4, "marketing", frozenset({"intent:praise", "intent:pr"}))
TEAMS = [SUPPORT, SPANISH, SOCIAL_ES, MARKETING]


@pytest.mark.parametrize(
    ("attrs", "team", "matched"),
    [
        ({"platform": "x", "language": "es"}, 3, ("channel:x", "language:es")),
        ({"platform": "email", "language": "es"}, 2, ("language:es",)),
        ({"platform": "x", "language": "en"}, 1, ()),
        ({"platform": "x", "intent": "praise"}, 4, ("intent:praise",)),
        ({"platform": "x"}, 1, ()),  # no language: the language teams are out
    ],
)
def test_best_matching_team(attrs: dict[str, str], team: int, matched: tuple[str, ...]) -> None:
    found = match_team(TEAMS, ticket_attributes(**attrs))  # type: ignore[arg-type]
    assert found is not None and (found.team.id, found.matched) == (team, matched)


def test_no_team_when_every_team_rules_the_ticket_out() -> None:
    assert match_team([SPANISH], ticket_attributes(language="de")) is None


@pytest.mark.parametrize("bad", ["spanish", ":es", "language:"])
def test_skills_need_a_dimension_and_a_value(bad: str) -> None:
    with pytest.raises(ValueError, match="dimension:value"):
        parse_skill(bad)


def agent(uid: int, load: int, cap: int | None = 5, on_shift: bool = True) -> AgentLoad:
    return AgentLoad(uid, on_shift, True, cap, load)


@pytest.mark.parametrize(
    ("agents", "strategy", "last", "expected", "skipped"),
    [
        ([agent(1, 3), agent(2, 1), agent(3, 2)], Strategy.LEAST_LOADED, None, 2, []),
        ([agent(1, 1), agent(2, 1)], Strategy.LEAST_LOADED, None, 1, []),
        ([agent(1, 0), agent(2, 0), agent(3, 0)], Strategy.ROUND_ROBIN, 1, 2, []),
        ([agent(1, 0), agent(2, 0), agent(3, 0)], Strategy.ROUND_ROBIN, 3, 1, []),
        ([agent(1, 0, on_shift=False), agent(2, 4)], Strategy.LEAST_LOADED, None, 2, [1]),
        ([agent(1, 5), agent(2, 9, cap=None)], Strategy.LEAST_LOADED, None, 2, [1]),
        ([agent(1, 5), agent(2, 0, on_shift=False)], Strategy.LEAST_LOADED, None, None, [1, 2]),
    ],
)
def test_choose_agent(
    agents: list[AgentLoad],
    strategy: str,
    last: int | None,
    expected: int | None,
    skipped: list[int],
) -> None:
    choice = choose_agent(agents, strategy, last)
    assert (choice.user_id if choice else None) == expected
    if choice:
        assert [s["user_id"] for s in choice.skipped] == skipped


def test_overflow_goes_to_the_next_team_and_says_so() -> None:
    first = TeamSpec(1, "tier 1", frozenset(), overflow_team_id=2)
    second = TeamSpec(2, "tier 2", frozenset({"language:xx"}))
    decision = route(
        [first, second],
        {1: [agent(10, 5)], 2: [agent(20, 0)]},
        ticket_attributes(platform="x"),
        preset_team_id=1,
    )
    assert (decision.team_id, decision.assignee_id) == (2, 20)
    assert decision.explanation["overflow"] == [{"from_team": 1, "reason": "no agent available"}]
    assert decision.explanation["team"]["via"] == "already set"


def test_overflow_cycles_stop_and_the_ticket_stays_with_its_team() -> None:
    a = TeamSpec(1, "a", frozenset(), overflow_team_id=2)
    b = TeamSpec(2, "b", frozenset({"language:xx"}), overflow_team_id=1)
    decision = route([a, b], {1: [], 2: []}, {})
    assert (decision.team_id, decision.assignee_id) == (1, None)
    assert len(decision.explanation["overflow"]) == 2


def test_exclude_the_agent_going_away() -> None:
    decision = route([SUPPORT], {1: [agent(1, 0), agent(2, 3)]}, {}, exclude=[1])
    assert decision.assignee_id == 2
