"""Bounded input types shared by every route, API and pages.

A value the database cannot hold must be refused with 422 before it reaches a query:
SQLite raises OverflowError on an integer above 2**63 - 1, PostgreSQL a DataError on
one above its column's range, and either would otherwise leave as a 500. Routes name
these types instead of a bare ``int`` so the bounds hold for routes added later too
(``tests/web/test_bad_input.py`` walks ``app.routes`` and refuses an unbounded one).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field

from socialdesk.store.repos.tickets import CursorError, decode_cursor

# The largest value a BIGINT (and SQLite's INTEGER) holds; every id column is one.
DB_INT_MAX = 2**63 - 1
# Ordinary INTEGER columns (positions, capacities, counts) on PostgreSQL.
INT32_MAX = 2**31 - 1

# A row id in a body or a query string: 1 … 2**63 - 1.
DbId = Annotated[int, Field(ge=1, le=DB_INT_MAX)]
# The ``{…_id}`` segment of a route's path.
IdPath = Annotated[int, Path(ge=1, le=DB_INT_MAX, description="row id (1 … 2**63 - 1)")]
# A list position or ordering weight (an INTEGER column).
Position = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]


def _valid_cursor(value: str | None) -> str | None:
    """A cursor is opaque but typed: ``null`` or garbage is the client's mistake (422)."""
    if not value:  # absent or empty: the first page
        return value
    try:
        decode_cursor(value)
    except CursorError as exc:
        raise ValueError(str(exc)) from None
    return value


# ``?cursor=`` of a ticket list: a ``next_cursor`` this API returned, nothing else.
TicketCursor = Annotated[
    str | None,
    Query(max_length=200, description="next_cursor of the previous page"),
    AfterValidator(_valid_cursor),
]


def parse_int(text: str, low: int, high: int) -> int | None:
    """A whole number typed into a form, within [low, high]; None when it is not one.

    ``str.isdigit`` alone is not enough: it is true for "²" (int() refuses it) and for
    a thousand digits (the database refuses those)."""
    text = text.strip()
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_id(text: str) -> int | None:
    """A row id typed into a form or a query string, or None when it is not one."""
    return parse_int(text, 1, DB_INT_MAX)
