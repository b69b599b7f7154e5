"""The automation rule editor's form ⇄ the rule JSON the API stores. Pure.

The form has numbered rows (``cond-0-field``…, ``act-0-type``…) so a row's checkbox
stays with its row. Values are converted by the field's kind only as far as the form
can know; automation/rules.py validates the result and its message is shown as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socialdesk.automation.rules import ACTIONS, FIELDS
from socialdesk.web.api.params import DB_INT_MAX, parse_id, parse_int

# Which form input carries each action's main value, and which optional pickers apply.
VALUE_KEY = {
    "set_priority": "priority",
    "add_tag": "tag",
    "send_canned_reply": "body",
    "notify": "message",
    "notify_email": "message",
    "set_status": "status",
    "escalate": "message",
}
USES_TEAM = {"assign_team", "notify", "notify_email", "escalate"}
USES_USER = {"assign_agent", "notify", "notify_email"}
USES_TO = {"notify_email"}
LIST_OPS = ("in", "has_any")
TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")


def _scalar(kind: str, text: str) -> Any:
    text = text.strip()
    if kind == "bool":
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        return text
    if kind == "int":
        number = parse_int(text, -DB_INT_MAX, DB_INT_MAX)
        return text if number is None else number
    return text


def condition_value(field: str, op: str, text: str) -> Any:
    kind = FIELDS.get(field, ("str", ()))[0]
    if op in LIST_OPS:
        return [_scalar(kind, part) for part in text.split(",") if part.strip()]
    return _scalar(kind, text)


def _int_or_none(text: str) -> int | None:
    return parse_id(text)


def rule_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """name, event, conditions, actions, enabled, position from the posted form."""
    conditions: list[dict[str, Any]] = []
    i = 0
    while f"cond-{i}-field" in form:
        field = form[f"cond-{i}-field"].strip()
        op = form.get(f"cond-{i}-op", "").strip()
        if field:
            text = form.get(f"cond-{i}-value", "")
            conditions.append({"field": field, "op": op, "value": condition_value(field, op, text)})
        i += 1
    actions: list[dict[str, Any]] = []
    i = 0
    while f"act-{i}-type" in form:
        kind = form[f"act-{i}-type"].strip()
        if kind:
            action: dict[str, Any] = {"type": kind}
            value = form.get(f"act-{i}-value", "").strip()
            key = VALUE_KEY.get(kind)
            # A required value left empty stays in, so the validator names what is missing.
            if key and (value or key in ACTIONS.get(kind, ())):
                action[key] = value
            team_id = _int_or_none(form.get(f"act-{i}-team", ""))
            if kind in USES_TEAM and team_id is not None:
                action["team_id"] = team_id
            elif kind == "assign_team":
                action["team_id"] = None
            user_id = _int_or_none(form.get(f"act-{i}-user", ""))
            if kind in USES_USER and user_id is not None:
                action["user_id"] = user_id
            elif kind == "assign_agent":
                action["user_id"] = None
            to = form.get(f"act-{i}-to", "").strip()
            if kind in USES_TO and to:
                action["to"] = to
            if kind == "send_canned_reply":
                action["once_per_ticket"] = bool(form.get(f"act-{i}-once"))
            actions.append(action)
        i += 1
    position = form.get("position", "0").strip() or "0"
    return {
        "name": form.get("name", ""),
        "event": form.get("event", "").strip(),
        "conditions": conditions,
        "actions": actions,
        "enabled": bool(form.get("enabled")),
        "position": parse_int(position, -1_000_000, 1_000_000) or 0,
    }


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value)
    return "" if value is None else str(value)


def form_rows(
    conditions: list[Any], actions: list[Any], *, spare: int = 2
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """Rows for the editor: the rule's own plus ``spare`` empty ones to add more."""
    cond_rows = [
        {
            "field": str(c.get("field", "")),
            "op": str(c.get("op", "")),
            "value": _show(c.get("value")),
        }
        for c in conditions
        if isinstance(c, Mapping)
    ]
    cond_rows += [{"field": "", "op": "", "value": ""} for _ in range(spare)]
    act_rows: list[dict[str, Any]] = []
    for a in actions:
        if not isinstance(a, Mapping):
            continue
        kind = str(a.get("type", ""))
        act_rows.append(
            {
                "type": kind,
                "value": _show(a.get(VALUE_KEY.get(kind, ""), "")),
                "team": _show(a.get("team_id")),
                "user": _show(a.get("user_id")),
                "to": _show(a.get("to")),
                "once": bool(a.get("once_per_ticket", True)),
            }
        )
    act_rows += [
        {"type": "", "value": "", "team": "", "user": "", "to": "", "once": True}
        for _ in range(spare)
    ]
    return cond_rows, act_rows
