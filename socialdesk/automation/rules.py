"""Automation rules as data: validation of the stored JSON and condition matching. Pure.

A rule is ``event`` → ``conditions`` (all must hold) → ``actions`` (in order)::

    {"event": "ticket_created",
     "conditions": [{"field": "business_hours", "op": "is", "value": false},
                    {"field": "channel", "op": "in", "value": ["x", "instagram"]}],
     "actions": [{"type": "send_canned_reply", "body": "We're back at {next_open}."}]}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from socialdesk.channels.networks import social_networks
from socialdesk.domain.enums import Priority

EVENTS = (
    "ticket_created",
    "customer_message",
    "agent_reply",
    "status_change",
    "sla_warning",
    "sla_breach",
    "time_elapsed",
    "mention_found",
)
# A post a saved search found (socialdesk/listening): its facts are the network, account,
# text, sentiment and intent, and its one action is making it a ticket.
MENTION_EVENT = "mention_found"
MENTION_FIELDS = ("channel", "account", "text", "sentiment", "intent")
# Facts of the periodic scan (``time_elapsed`` rules): whole minutes since the instant.
TIME_FIELDS = ("minutes_since_last_customer_message", "minutes_since_status_change")
# field → (value kind, allowed operators)
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "channel": ("str", ("is", "not", "in")),
    "account": ("int", ("is", "not", "in")),
    "text": ("str", ("contains", "not_contains", "matches")),
    "priority": ("str", ("is", "not", "in")),
    "status": ("str", ("is", "not", "in")),
    "language": ("str", ("is", "not", "in")),
    "intent": ("str", ("is", "not", "in")),
    "sentiment": ("str", ("is", "not", "in")),
    # The ticket's triage (docs/triage.md): its workspace topic and urgency 0-100.
    "topic": ("str", ("is", "not", "in")),
    "urgency": ("int", ("gte", "lte", "gt", "lt")),
    "tags": ("str", ("has", "not_has", "has_any")),
    "follower_count": ("int", ("gte", "lte", "gt", "lt")),
    "vip": ("bool", ("is",)),
    "business_hours": ("bool", ("is",)),
    "own_post": ("bool", ("is",)),
    "sla_target": ("str", ("is", "in")),
    "minutes_since_last_customer_message": ("int", ("gte", "lte", "gt", "lt")),
    "minutes_since_status_change": ("int", ("gte", "lte", "gt", "lt")),
}
ACTIONS: dict[str, tuple[str, ...]] = {
    "assign_team": ("team_id",),
    "assign_agent": ("user_id",),
    "set_priority": ("priority",),
    "add_tag": ("tag",),
    "send_canned_reply": ("body",),
    "notify": ("message",),
    "close_as_noise": (),
    "set_status": ("status",),
    "escalate": (),
    "notify_email": ("message",),
    "create_ticket": (),
}
# What a rule may set a ticket to (closing is ``close_as_noise``; new is never set back).
RULE_STATUSES = ("open", "pending", "on_hold", "solved")
OPTIONAL_ACTION_KEYS = {"once_per_ticket", "user_id", "team_id", "to", "message"}


def _check_value(name: str, kind: str, op: str, value: Any) -> Any:
    if op in ("in", "has_any"):
        if not isinstance(value, list) or not value:
            raise ValueError(f"{name}: '{op}' takes a non-empty list")
        return [_check_value(name, kind, "is", v) for v in value]
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{name}: true or false")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name}: a whole number")
        return value
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: a non-empty string")
    if op == "matches":
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{name}: invalid regular expression: {exc}") from None
    return value if op in ("contains", "not_contains", "matches") else value.lower()


def validate_rule(event: Any, conditions: Any, actions: Any) -> tuple[str, list[Any], list[Any]]:
    """Normalized (event, conditions, actions); ValueError says what is wrong."""
    if event not in EVENTS:
        raise ValueError(f"event must be one of {', '.join(EVENTS)}")
    if not isinstance(conditions, list):
        raise ValueError("conditions: a list of {field, op, value}")
    clean_conditions = []
    for i, cond in enumerate(conditions):
        where = f"conditions[{i}]"
        if not isinstance(cond, Mapping) or set(cond) != {"field", "op", "value"}:
            raise ValueError(f"{where}: an object with field, op and value")
        field = cond["field"]
        if field not in FIELDS:
            raise ValueError(f"{where}.field: unknown field {field!r}; use {', '.join(FIELDS)}")
        kind, ops = FIELDS[field]
        if cond["op"] not in ops:
            raise ValueError(f"{where}.op: {field} takes {', '.join(ops)}")
        value = _check_value(f"{where}.value", kind, cond["op"], cond["value"])
        clean_conditions.append({"field": field, "op": cond["op"], "value": value})
    if not isinstance(actions, list) or not actions:
        raise ValueError("actions: a non-empty list of {type, ...}")
    clean_actions = []
    for i, action in enumerate(actions):
        where = f"actions[{i}]"
        if not isinstance(action, Mapping) or action.get("type") not in ACTIONS:
            raise ValueError(f"{where}.type: one of {', '.join(ACTIONS)}")
        required = ACTIONS[action["type"]]
        missing = [k for k in required if action.get(k) in (None, "")]
        if missing:
            raise ValueError(f"{where}: {action['type']} needs {missing[0]}")
        unknown = set(action) - {"type", *required, *OPTIONAL_ACTION_KEYS}
        if unknown:
            raise ValueError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        if action["type"] == "set_priority" and action["priority"] not in set(Priority):
            raise ValueError(f"{where}.priority: one of {', '.join(Priority)}")
        if action["type"] == "set_status" and action["status"] not in RULE_STATUSES:
            raise ValueError(f"{where}.status: one of {', '.join(RULE_STATUSES)}")
        if action["type"] == "notify_email":
            to = action.get("to")
            if to is not None and (not isinstance(to, str) or "@" not in to):
                raise ValueError(f"{where}.to: an e-mail address")
            if not (to or action.get("user_id") or action.get("team_id")):
                raise ValueError(f"{where}: notify_email needs to, user_id or team_id")
        if action["type"] == "notify" and not (action.get("user_id") or action.get("team_id")):
            raise ValueError(f"{where}: notify needs user_id or team_id")
        clean_actions.append(dict(action))
    if event == MENTION_EVENT:
        if any(a["type"] != "create_ticket" for a in clean_actions):
            raise ValueError("mention_found rules have one action: create_ticket")
        if any(c["field"] not in MENTION_FIELDS for c in clean_conditions):
            raise ValueError(f"mention_found rules look at {', '.join(MENTION_FIELDS)}")
    elif any(a["type"] == "create_ticket" for a in clean_actions):
        raise ValueError("create_ticket is for mention_found rules")
    if event.startswith("sla_") and any(a["type"] == "send_canned_reply" for a in clean_actions):
        raise ValueError("canned replies answer customers; SLA events cannot send them")
    if event == "time_elapsed" and not any(
        c["field"] in TIME_FIELDS and c["op"] in ("gte", "gt") for c in clean_conditions
    ):
        raise ValueError(
            "time_elapsed rules need a minutes_since_* condition with gte or gt "
            "(otherwise they would fire on every ticket at once)"
        )
    if event != "time_elapsed" and any(c["field"] in TIME_FIELDS for c in clean_conditions):
        raise ValueError("minutes_since_* conditions are for time_elapsed rules")
    return event, clean_conditions, clean_actions


def condition_holds(cond: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    field, op, value = cond["field"], cond["op"], cond["value"]
    actual = facts.get(field)
    if field == "tags":
        tags = {str(t).lower() for t in actual or ()}
        if op == "has":
            return value.lower() in tags
        if op == "not_has":
            return value.lower() not in tags
        return bool(tags & {v.lower() for v in value})
    if field == "text":
        text = str(actual or "")
        if op == "matches":
            return re.search(value, text, re.IGNORECASE) is not None
        found = value.lower() in text.lower()
        return found if op == "contains" else not found
    if op in ("gte", "lte", "gt", "lt"):
        if actual is None:
            return False
        return {"gte": actual >= value, "lte": actual <= value, "gt": actual > value}.get(
            op, actual < value
        )
    if isinstance(actual, str):
        actual = actual.lower()
    if op == "is":
        return bool(actual == value)
    if op == "not":
        return bool(actual != value)
    return actual in value


def conditions_hold(conditions: list[Mapping[str, Any]], facts: Mapping[str, Any]) -> bool:
    return all(condition_holds(c, facts) for c in conditions)


def out_of_hours_acknowledgement(body: str | None = None) -> dict[str, Any]:
    """The out-of-hours auto-acknowledgement as an ordinary rule (social channels only)."""
    social = social_networks()
    return {
        "name": "Out-of-hours acknowledgement",
        "event": "ticket_created",
        "conditions": [
            {"field": "business_hours", "op": "is", "value": False},
            {"field": "own_post", "op": "is", "value": False},
            {"field": "channel", "op": "in", "value": social},
        ],
        "actions": [
            {
                "type": "send_canned_reply",
                "body": body
                or "Thanks for reaching out! We're back at {next_open} — "
                "we've got your message and will answer then.",
                "once_per_ticket": True,
            }
        ],
    }
