"""Reading a report's period from what people type, and writing rows as CSV.

Shared by the API, the Reports page and the CLI so all three accept the same input and
refuse it with the same reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from socialdesk.reports.metrics import FIELDS, GroupBy

DEFAULT_DAYS = 7
# A year and a leap day either side: long enough for year-on-year, short enough that a
# typo (year 20266) cannot ask for millennia of rows.
MAX_SPAN = timedelta(days=732)


class PeriodError(ValueError):
    """The reason a period or grouping was refused, worded for the person who typed it."""


def parse_moment(value: str, zone: tzinfo, name: str) -> datetime:
    """``2026-03-02`` (local midnight), or an ISO 8601 time; without an offset, local."""
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=zone)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise PeriodError(
            f"{name} must be a date (2026-03-02) or an ISO 8601 time, not {value[:40]!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if not 1970 <= moment.year <= 9998:
        raise PeriodError(f"{name} must fall between the years 1970 and 9998")
    return moment


def parse_period(
    since: str | None, until: str | None, zone: tzinfo, now: datetime
) -> tuple[datetime, datetime]:
    """The period ``[since, until)``; missing ends default to the last seven local days
    (today included)."""
    if until:
        end = parse_moment(until, zone, "until")
    else:
        today = now.astimezone(zone).date()
        end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    start = parse_moment(since, zone, "since") if since else end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise PeriodError("since must be before until")
    if end - start > MAX_SPAN:
        raise PeriodError(f"a report covers at most {MAX_SPAN.days} days; narrow since/until")
    return start, end


def parse_by(value: str | None) -> GroupBy:
    if not value:
        return GroupBy.DAY
    try:
        return GroupBy(value.strip().lower())
    except ValueError:
        choices = ", ".join(str(g) for g in GroupBy)
        raise PeriodError(f"by must be one of {choices}, not {value[:40]!r}") from None


def previous_period(since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """The period of the same length just before, to compare against."""
    return since - (until - since), since


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    # A name a customer or network chose must not run as a spreadsheet formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def rows_csv(rows: Iterable[Mapping[str, Any]], fields: Sequence[str] = FIELDS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in fields})
    return out.getvalue()
