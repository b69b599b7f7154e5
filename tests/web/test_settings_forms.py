"""The settings editors' form conversions (pure): what a row of inputs becomes in the
rule and policy JSON that automation/rules.py and sla/admin.py validate, and back."""

from __future__ import annotations

from typing import Any

import pytest

from socialdesk.automation.rules import out_of_hours_acknowledgement, validate_rule
from socialdesk.web.pages.settings.rule_form import condition_value, form_rows, rule_from_form
from socialdesk.web.pages.settings.sla_form import form_values, intervals, policy_from_form


@pytest.mark.parametrize(
    ("field", "op", "text", "value"),
    [
        ("channel", "in", "x, instagram,", ["x", "instagram"]),
        ("vip", "is", "yes", True),
        ("business_hours", "is", "False", False),
        ("vip", "is", "maybe", "maybe"),  # left for the validator to refuse
        ("follower_count", "gte", "10000", 10000),
        ("follower_count", "gte", "lots", "lots"),
        ("account", "in", "3, 4", [3, 4]),
        ("text", "contains", "  refund ", "refund"),
        ("tags", "has_any", "vip,press", ["vip", "press"]),
        ("colour", "is", "red", "red"),
    ],
)
def test_condition_values(field: str, op: str, text: str, value: Any) -> None:
    assert condition_value(field, op, text) == value


@pytest.mark.parametrize(
    ("row", "action"),
    [
        ({"type": "add_tag", "value": "vip"}, {"type": "add_tag", "tag": "vip"}),
        ({"type": "add_tag", "value": ""}, {"type": "add_tag", "tag": ""}),
        ({"type": "assign_team", "team": "4", "user": "9"}, {"type": "assign_team", "team_id": 4}),
        ({"type": "assign_team"}, {"type": "assign_team", "team_id": None}),
        ({"type": "assign_agent", "user": "9"}, {"type": "assign_agent", "user_id": 9}),
        ({"type": "escalate", "value": ""}, {"type": "escalate"}),
        ({"type": "escalate", "team": "2"}, {"type": "escalate", "team_id": 2}),
        (
            {"type": "notify_email", "value": "Look", "to": "a@b.co"},
            {"type": "notify_email", "message": "Look", "to": "a@b.co"},
        ),
        (
            {"type": "send_canned_reply", "value": "Hi", "once": "1"},
            {"type": "send_canned_reply", "body": "Hi", "once_per_ticket": True},
        ),
        (
            {"type": "send_canned_reply", "value": "Hi"},
            {"type": "send_canned_reply", "body": "Hi", "once_per_ticket": False},
        ),
        ({"type": "close_as_noise", "value": "ignored"}, {"type": "close_as_noise"}),
    ],
)
def test_action_rows(row: dict[str, str], action: dict[str, Any]) -> None:
    form = {"name": "r", "event": "ticket_created"}
    form.update({f"act-0-{k}": v for k, v in row.items()})
    form["act-1-type"] = ""  # blank rows are skipped
    assert rule_from_form(form)["actions"] == [action]


def test_rows_round_trip_the_out_of_hours_rule() -> None:
    rule = out_of_hours_acknowledgement()
    conditions, actions = form_rows(rule["conditions"], rule["actions"])
    form = {"name": rule["name"], "event": rule["event"], "enabled": "1", "position": "2"}
    for i, c in enumerate(conditions):
        form.update({f"cond-{i}-{k}": v for k, v in c.items()})
    for i, a in enumerate(actions):
        form.update({f"act-{i}-{k}": str(v) for k, v in a.items() if k != "once"})
        if a["once"]:
            form[f"act-{i}-once"] = "1"
    back = rule_from_form(form)
    assert (back["conditions"], back["actions"]) == (rule["conditions"], rule["actions"])
    assert (back["enabled"], back["position"]) == (True, 2)
    assert validate_rule(back["event"], back["conditions"], back["actions"])[2] == rule["actions"]
    assert len(conditions) == 3 + 2 and len(actions) == 1 + 2  # two spare rows each


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("09:00-17:00", [["09:00", "17:00"]]),
        ("09:00 - 12:00, 13:00-17:00", [["09:00", "12:00"], ["13:00", "17:00"]]),
        ("", []),
        ("09:00", [["09:00"]]),  # the calendar validator says what is wrong
    ],
)
def test_hours(text: str, pairs: list[list[str]]) -> None:
    assert intervals(text) == pairs


def test_policy_form_round_trip() -> None:
    stored = {
        "name": "Social",
        "position": 1,
        "enabled": True,
        "pause_on_hold": True,
        "channels": ["x"],
        "warn_share": 0.8,
        "targets": [
            {
                "channel": "x",
                "priority": None,
                "first_response_minutes": 30,
                "next_response_minutes": None,
                "resolution_minutes": 2.5,
            }
        ],
        "calendar": {
            "timezone": "Europe/Berlin",
            "country": "DE",
            "custom_holidays": ["2026-12-24"],
            "hours": {"monday": [["09:00", "17:00"]]},
        },
    }
    v = form_values(stored)
    assert v["hours"]["mon"] == "09:00-17:00" and v["hours"]["sun"] == ""
    assert v["warn_percent"] == "80" and not v["always_open"]
    form = {k: str(v[k]) for k in ("name", "position", "warn_percent", "timezone", "country")}
    form |= {"enabled": "1", "pause_on_hold": "1", "custom_holidays": v["custom_holidays"]}
    form |= {f"hours-{d}": text for d, text in v["hours"].items()}
    for i, row in enumerate(v["targets"]):
        form |= {f"t-{i}-{k}": str(val) for k, val in row.items()}
    back = policy_from_form(form, ["x"])
    assert back["targets"] == stored["targets"]
    assert back["calendar"]["hours"]["mon"] == [["09:00", "17:00"]]
    assert back["calendar"]["hours"]["tue"] == []
    assert back["warn_share"] == pytest.approx(0.8)
    assert (back["enabled"], back["pause_on_hold"], back["position"]) == (True, True, 1)


def test_round_the_clock_in_utc_is_stored_as_null() -> None:
    assert policy_from_form({"name": "p", "always_open": "1"}, [])["calendar"] is None
    with_zone = policy_from_form({"name": "p", "always_open": "1", "timezone": "Asia/Tokyo"}, [])
    assert with_zone["calendar"] == {"timezone": "Asia/Tokyo"}
