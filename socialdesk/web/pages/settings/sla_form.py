"""The SLA policy editor's form ⇄ the policy values sla/admin.py validates. Pure.

Weekly hours are typed per weekday as ``09:00-12:00, 13:00-17:00`` (empty = closed);
anything the form cannot split is passed on so the calendar validator names the problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socialdesk.sla.policies import TARGET_FIELDS, WEEKDAYS
from socialdesk.web.api.params import parse_int

MINUTE_FIELDS = tuple(TARGET_FIELDS.values())
SHORT = {
    "first_response_minutes": "first",
    "next_response_minutes": "next",
    "resolution_minutes": "resolution",
}


def _minutes(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def intervals(text: str) -> list[list[str]]:
    out: list[list[str]] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        start, sep, end = part.partition("-")
        out.append([start.strip(), end.strip()] if sep else [part])
    return out


def policy_from_form(form: Mapping[str, str], channels: list[str]) -> dict[str, Any]:
    targets: list[dict[str, Any]] = []
    i = 0
    while f"t-{i}-channel" in form:
        row: dict[str, Any] = {
            "channel": form.get(f"t-{i}-channel") or None,
            "priority": form.get(f"t-{i}-priority") or None,
        }
        for name in MINUTE_FIELDS:
            row[name] = _minutes(form.get(f"t-{i}-{SHORT[name]}", ""))
        if any(v is not None for v in row.values()):
            targets.append(row)
        i += 1
    calendar: dict[str, Any] = {}
    for key in ("timezone", "country", "subdivision"):
        value = form.get(key, "").strip()
        if value:
            calendar[key] = value
    holidays = [d.strip() for d in form.get("custom_holidays", "").replace("\n", ",").split(",")]
    if any(holidays):
        calendar["custom_holidays"] = [d for d in holidays if d]
    if not form.get("always_open"):
        calendar["hours"] = {day: intervals(form.get(f"hours-{day}", "")) for day in WEEKDAYS}
    share_text = form.get("warn_percent", "").strip() or "75"
    try:
        warn_share: Any = float(share_text) / 100
    except ValueError:
        warn_share = -1.0  # the validator explains the range
    position = form.get("position", "0").strip()
    return {
        "name": form.get("name", ""),
        "position": parse_int(position, -1_000_000, 1_000_000) or 0,
        "enabled": bool(form.get("enabled")),
        "pause_on_hold": bool(form.get("pause_on_hold")),
        "channels": channels,
        "warn_share": warn_share,
        "targets": targets,
        # Nothing set means 24/7 in UTC without holidays, stored as null.
        "calendar": calendar or None,
    }


def form_values(policy: Mapping[str, Any], spare: int = 2) -> dict[str, Any]:
    """What the editor shows for stored (or just posted) policy values."""
    calendar = policy.get("calendar") or {}
    hours = calendar.get("hours")
    by_day = {str(k).lower()[:3]: v for k, v in (hours or {}).items()}
    rows = []
    for t in list(policy.get("targets") or []):
        if isinstance(t, Mapping):
            rows.append(
                {
                    "channel": t.get("channel") or "",
                    "priority": t.get("priority") or "",
                    **{SHORT[n]: "" if t.get(n) is None else str(t.get(n)) for n in MINUTE_FIELDS},
                }
            )
    rows += [{"channel": "", "priority": "", "first": "", "next": "", "resolution": ""}] * spare
    share = policy.get("warn_share", 0.75)
    percent = round(float(share) * 100, 1) if isinstance(share, int | float) else 75
    return {
        "name": policy.get("name", ""),
        "position": policy.get("position", 0),
        "enabled": bool(policy.get("enabled", True)),
        "pause_on_hold": bool(policy.get("pause_on_hold", False)),
        "channels": set(policy.get("channels") or []),
        "warn_percent": f"{percent:g}",
        "targets": rows,
        "timezone": calendar.get("timezone", ""),
        "country": calendar.get("country") or "",
        "subdivision": calendar.get("subdivision") or "",
        "custom_holidays": ", ".join(str(d) for d in calendar.get("custom_holidays") or []),
        "always_open": hours is None,
        "hours": {
            day: ", ".join("-".join(str(x) for x in pair) for pair in by_day.get(day, []))
            for day in WEEKDAYS
        },
    }
