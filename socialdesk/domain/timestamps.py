"""Times read from network payloads, checked before they reach the database.

A network's clock field is untrusted input: ``"99999999999999999999"`` milliseconds or
``1e30`` seconds overflow Python's ``datetime``, and a year-1 time with an offset
overflows when converted to UTC. Such a value must be refused where it is parsed (one
clear reason for the event) instead of raising an ``OverflowError`` deep in the
pipeline, so every parser goes through these functions.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

# What a post's time can plausibly be: the epoch up to the end of this century. Values
# outside are refused, not clamped, so a wrong unit is noticed rather than stored.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class TimestampError(ValueError):
    """A payload time that is not a time, or lies outside [EARLIEST, LATEST)."""


def in_range(moment: datetime) -> datetime:
    """``moment`` as aware UTC, or ``TimestampError`` when it is outside the range."""
    try:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        utc = aware.astimezone(UTC)
    except (OverflowError, ValueError):
        raise TimestampError(f"time {moment.isoformat()} is out of range") from None
    if not EARLIEST <= utc < LATEST:
        raise TimestampError(f"time {utc.isoformat()} is out of range")
    return utc


def from_epoch(value: object, *, unit: float = 1.0) -> datetime:
    """An epoch number (int, float or digit string) times ``unit`` seconds → UTC time.

    ``unit=0.001`` reads milliseconds. Refuses booleans, non-numbers, NaN/infinity and
    values outside the range, whatever their size, with ``TimestampError``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TimestampError(f"time {value!r} is not a number")
    if isinstance(value, str):
        text = value.strip()
        try:
            number: int | float = int(text) if text.lstrip("-").isdigit() else float(text)
        except ValueError:
            raise TimestampError(f"time {value!r} is not a number") from None
    else:
        number = value
    # Compare before converting: the bound check never overflows on an int of any size.
    if isinstance(number, float) and not math.isfinite(number):
        raise TimestampError(f"time {value!r} is not a number")
    try:
        seconds = number * unit
    except OverflowError:  # an int too large for a float
        seconds = math.inf
    if not EARLIEST.timestamp() <= seconds < LATEST.timestamp():
        raise TimestampError(f"time {str(value)[:40]!r} is out of range")
    return datetime.fromtimestamp(seconds, tz=UTC)


def from_iso(value: object) -> datetime:
    """An ISO 8601 string → UTC time (UTC when it has no offset); ``TimestampError``
    when it is not one or lies outside the range."""
    if not isinstance(value, str):
        raise TimestampError(f"time {value!r} is not a string")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise TimestampError(f"time {value[:40]!r} is not an ISO 8601 time") from None
    return in_range(moment)


def iso_or_none(value: object) -> datetime | None:
    """``from_iso`` for optional fields: ``None`` instead of an error."""
    try:
        return from_iso(value)
    except TimestampError:
        return None
