"""The Kaggle "Customer Support on Twitter" (twcs) format.

Columns: tweet_id, author_id, inbound, created_at, text, response_tweet_id,
in_response_to_tweet_id. Customers' tweets become inbound messages; brands' tweets
become the brand account's outbound replies, so history keeps real reply times. One
channel account per brand handle.
"""

from __future__ import annotations

import csv
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from socialdesk.domain.enums import Direction, Platform
from socialdesk.domain.messages import Author, InboundMessage

COLUMNS = (
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
)
TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"
_MENTION = re.compile(r"@(\w{1,30})")


class TwcsFormatError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TwcsRow:
    tweet_id: str
    author_id: str
    inbound: bool
    created_at: datetime
    text: str
    response_ids: tuple[str, ...]
    parent_id: str | None
    raw: dict[str, str]


class Skip:
    BAD_ROW = "unreadable row"
    NO_BRAND = "customer tweet addressed to no known brand"
    BRAND_ROOT = "brand tweet that starts no customer thread"
    PARENT_MISSING = "brand reply to a tweet not in the file"


def read_rows(path: Path) -> tuple[list[TwcsRow], dict[str, int]]:
    """Parse the file; rows that cannot be read are counted by reason, not fatal."""
    rows: list[TwcsRow] = []
    bad: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise TwcsFormatError(
                f"{path} is not in twcs format: missing column(s) {', '.join(missing)}"
            )
        for record in reader:
            try:
                rows.append(_parse(record))
            except (ValueError, TypeError) as exc:
                key = f"{Skip.BAD_ROW} ({exc.__class__.__name__})"
                bad[key] = bad.get(key, 0) + 1
    return rows, bad


def _parse(record: dict[str, Any]) -> TwcsRow:
    tweet_id = (record["tweet_id"] or "").strip()
    if not tweet_id.isdigit():
        raise ValueError("tweet_id")
    inbound_text = (record["inbound"] or "").strip().lower()
    if inbound_text not in ("true", "false"):
        raise ValueError("inbound")
    parent = _clean_id(record["in_response_to_tweet_id"])
    responses = tuple(
        filter(None, (_clean_id(x) for x in (record["response_tweet_id"] or "").split(",")))
    )
    return TwcsRow(
        tweet_id=tweet_id,
        author_id=(record["author_id"] or "").strip(),
        inbound=inbound_text == "true",
        created_at=datetime.strptime(record["created_at"].strip(), TIME_FORMAT),  # noqa: DTZ007 - TIME_FORMAT has %z
        # The export kept the API's HTML escaping (&amp;, &lt;, &gt;): customers typed "&".
        text=html.unescape(record["text"] or ""),
        response_ids=responses,
        parent_id=parent,
        raw={k: v for k, v in record.items() if k in COLUMNS},
    )


def _clean_id(value: str | None) -> str | None:
    value = (value or "").strip()
    if value.endswith(".0"):  # pandas dumps wrote ids as floats
        value = value[:-2]
    return value if value.isdigit() else None


def brand_handles(rows: Iterable[TwcsRow]) -> list[str]:
    return sorted({r.author_id for r in rows if not r.inbound and r.author_id})


def brand_of_rows(rows: list[TwcsRow]) -> dict[str, str | None]:
    """Which brand each tweet belongs to: its own author for brand tweets; for customer
    tweets the brand of the thread (parent chain, then replies, then @mentions)."""
    by_id = {r.tweet_id: r for r in rows}
    brands = set(brand_handles(rows))
    brands_lower = {b.lower(): b for b in brands}
    resolved: dict[str, str | None] = {}

    def direct(row: TwcsRow) -> str | None:
        if not row.inbound:
            return row.author_id
        for child_id in row.response_ids:
            child = by_id.get(child_id)
            if child is not None and not child.inbound:
                return child.author_id
        for mention in _MENTION.findall(row.text):
            if mention.lower() in brands_lower:
                return brands_lower[mention.lower()]
        return None

    for row in rows:
        chain: list[TwcsRow] = []
        cursor: TwcsRow | None = row
        seen: set[str] = set()
        brand: str | None = None
        # Walk up to the nearest tweet whose brand is known (iteratively: threads can be long).
        while cursor is not None and cursor.tweet_id not in seen:
            if cursor.tweet_id in resolved:
                brand = resolved[cursor.tweet_id]
                break
            seen.add(cursor.tweet_id)
            chain.append(cursor)
            if not cursor.inbound:
                brand = cursor.author_id
                break
            parent = by_id.get(cursor.parent_id) if cursor.parent_id else None
            if parent is None:
                brand = direct(cursor)
                break
            cursor = parent
        for item in chain:
            resolved[item.tweet_id] = brand if item.inbound else item.author_id
        if brand is None:
            resolved[row.tweet_id] = direct(row)
    return resolved


def to_messages(
    rows: list[TwcsRow], account_ids: dict[str, int]
) -> tuple[list[tuple[InboundMessage, dict[str, Any]]], dict[str, int]]:
    """Messages in time order, each with its raw record, plus skipped counts by reason."""
    by_id = {r.tweet_id: r for r in rows}
    brand_of = brand_of_rows(rows)
    skipped: dict[str, int] = {}
    out: list[tuple[InboundMessage, dict[str, Any]]] = []
    for row in sorted(rows, key=lambda r: (r.created_at, int(r.tweet_id))):
        brand = brand_of.get(row.tweet_id)
        reason: str | None = None
        if brand is None or brand not in account_ids:
            reason = Skip.NO_BRAND
        elif not row.inbound and row.parent_id is None:
            reason = Skip.BRAND_ROOT
        elif not row.inbound and row.parent_id not in by_id:
            reason = Skip.PARENT_MISSING
        if reason is not None:
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        assert brand is not None
        author = (
            Author(external_user_id=row.author_id, handle=row.author_id)
            if row.inbound
            else Author(external_user_id=brand, handle=brand)
        )
        message = InboundMessage(
            channel_account_id=account_ids[brand],
            platform=Platform.X,
            platform_message_id=row.tweet_id,
            author=author,
            body=row.text,
            created_at=row.created_at,
            direction=Direction.INBOUND if row.inbound else Direction.OUTBOUND,
            reply_to_id=row.parent_id,
        )
        out.append((message, row.raw))
    return out, skipped
