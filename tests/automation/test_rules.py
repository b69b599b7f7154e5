from __future__ import annotations

from typing import Any

import pytest

from socialdesk.automation.csat import parse_csat_answer
from socialdesk.automation.promises import detect_promise
from socialdesk.automation.rules import conditions_hold, validate_rule

FACTS = {
    "channel": "x",
    "account": 7,
    "text": "My ORDER #123 never arrived",
    "priority": "normal",
    "tags": ["billing"],
    "follower_count": 12_000,
    "vip": False,
    "business_hours": False,
}


def c(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        (c("channel", "is", "x"), True),
        (c("channel", "in", ["email", "facebook"]), False),
        (c("account", "is", 7), True),
        (c("text", "contains", "order"), True),
        (c("text", "not_contains", "refund"), True),
        (c("text", "matches", r"#\d+"), True),
        (c("priority", "not", "urgent"), True),
        (c("tags", "has", "billing"), True),
        (c("tags", "has_any", ["vip", "press"]), False),
        (c("tags", "not_has", "spam"), True),
        (c("follower_count", "gte", 10_000), True),
        (c("follower_count", "lt", 10_000), False),
        (c("vip", "is", True), False),
        (c("business_hours", "is", False), True),
        (c("language", "is", "es"), False),  # unknown fact
    ],
)
def test_conditions(cond: dict[str, Any], expected: bool) -> None:
    _, conditions, _ = validate_rule("ticket_created", [cond], [{"type": "close_as_noise"}])
    assert conditions_hold(conditions, FACTS) is expected


@pytest.mark.parametrize(
    ("event", "conditions", "actions", "reason"),
    [
        ("ticket_exploded", [], [{"type": "close_as_noise"}], "event must be one of"),
        (
            "ticket_created",
            [c("colour", "is", "red")],
            [{"type": "close_as_noise"}],
            "unknown field",
        ),
        ("ticket_created", [c("vip", "gte", 1)], [{"type": "close_as_noise"}], "vip takes is"),
        ("ticket_created", [c("text", "matches", "(")], [{"type": "close_as_noise"}], "regular"),
        (
            "ticket_created",
            [c("channel", "in", [])],
            [{"type": "close_as_noise"}],
            "non-empty list",
        ),
        ("ticket_created", [], [], "non-empty list"),
        ("ticket_created", [], [{"type": "explode"}], "one of"),
        ("ticket_created", [], [{"type": "set_priority", "priority": "asap"}], "priority"),
        ("ticket_created", [], [{"type": "assign_team"}], "needs team_id"),
        ("ticket_created", [], [{"type": "notify", "message": "hi"}], "user_id or team_id"),
        ("sla_breach", [], [{"type": "send_canned_reply", "body": "hi"}], "cannot send"),
    ],
)
def test_invalid_rules_are_refused(
    event: str, conditions: list[Any], actions: list[Any], reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        validate_rule(event, conditions, actions)


@pytest.mark.parametrize(
    ("text", "phrase_start", "hours"),
    [
        ("We'll look into it and get back to you.", "We'll look into it", 24),
        ("I\u2019ll get back to you in 2 hours", "I'll get back to you", 2),
        ("Thanks! We'll DM you tomorrow with the tracking number.", "We'll DM you tomorrow", 24),
        ("Let me check with the warehouse, I will update you shortly", "Let me check", 4),
        ("We will follow up within 3 days", "We will follow up", 72),
        ("I'm going to escalate this to our team today", "I'm going to escalate", 8),
    ],
)
def test_promises_are_found_with_their_due_time(text: str, phrase_start: str, hours: int) -> None:
    promise = detect_promise(text)
    assert promise is not None
    assert promise.phrase.startswith(phrase_start)
    assert promise.due_in.total_seconds() == hours * 3600


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for reaching out, your refund is done.",
        "We won't get back to this topic.",
        "Could you get back to us with your order number?",
        "Did you look into the FAQ?",
    ],
)
def test_no_promise(text: str) -> None:
    assert detect_promise(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", (5, "")),
        ("4/5 works now, thanks", (4, "works now, thanks")),
        ("3 stars", (3, "")),
        ("⭐⭐⭐⭐⭐ perfect", (5, "perfect")),
        ("it works now", None),
        ("6", None),
        ("10/10", None),
    ],
)
def test_csat_answers(text: str, expected: tuple[int, str] | None) -> None:
    assert parse_csat_answer(text) == expected
