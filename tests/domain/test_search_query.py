"""The search box's language, parsed without a database (table-driven)."""

from __future__ import annotations

import pytest

from socialdesk.domain.search_query import (
    MAX_TERMS,
    SearchQuery,
    SearchQueryError,
    TextTerm,
    parse_search,
)

CASES: list[tuple[str, SearchQuery]] = [
    ("", SearchQuery()),
    ("   ", SearchQuery()),
    # The last plain word is also a prefix (the user may still be typing it)...
    ("refund", SearchQuery((TextTerm("refund", prefix=True),))),
    ("parcel refund", SearchQuery((TextTerm("parcel"), TextTerm("refund", prefix=True)))),
    # ...but not when it is short, or punctuated (the tokenizers split it).
    ("my ok", SearchQuery((TextTerm("my"), TextTerm("ok")))),
    ("order #123", SearchQuery((TextTerm("order"), TextTerm("#123")))),
    ("jane@example.com", SearchQuery((TextTerm("jane@example.com"),))),
    # An explicit * is a prefix anywhere; a * alone is nothing.
    ("deliv* late", SearchQuery((TextTerm("deliv", prefix=True), TextTerm("late", prefix=True)))),
    ("*", SearchQuery()),
    # Phrases keep their words together, spaces squeezed; unterminated runs to the end.
    ('"never  arrived"', SearchQuery((TextTerm("never arrived", phrase=True),))),
    ('"never arrived', SearchQuery((TextTerm("never arrived", phrase=True),))),
    ('"refund"', SearchQuery((TextTerm("refund"),))),
    ('""', SearchQuery()),
    # Senders: @handle and from:, lowercased, without the "@".
    ("@AcmeFan", SearchQuery(senders=("acmefan",))),
    ("from:@AcmeFan", SearchQuery(senders=("acmefan",))),
    ("from:Jane@Example.com", SearchQuery(senders=("jane@example.com",))),
    ("@jane from:jane", SearchQuery(senders=("jane",))),
    ("@ from:", SearchQuery((TextTerm("from:"),))),
    # Channels: any of them.
    ("channel:x", SearchQuery(channels=frozenset({"x"}))),
    (
        "Channel:Facebook channel:x,email",
        SearchQuery(channels=frozenset({"facebook", "x", "email"})),
    ),
    (
        "refund channel:x @jane",
        SearchQuery((TextTerm("refund"),), ("jane",), frozenset({"x"})),
    ),
    # FTS and tsquery syntax is text: NEAR, AND, -, :, quotes, parentheses.
    ("NEAR", SearchQuery((TextTerm("NEAR", prefix=True),))),
    ("- : ( ) ^ ~", SearchQuery()),
    ("-refund", SearchQuery((TextTerm("-refund"),))),
    ("a:b", SearchQuery((TextTerm("a:b"),))),
    (
        'say "hi" to "jane',
        SearchQuery((TextTerm("say"), TextTerm("hi"), TextTerm("to"), TextTerm("jane"))),
    ),
    ("___", SearchQuery()),
    ("café", SearchQuery((TextTerm("café", prefix=True),))),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_search(text: str, expected: SearchQuery) -> None:
    assert parse_search(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("channel:myspace", "unknown channel 'myspace'"),
        ("refund channel:x,fax", "unknown channel 'fax'"),
        (" ".join(f"w{i}" for i in range(MAX_TERMS + 1)), f"at most {MAX_TERMS}"),
    ],
)
def test_parse_search_refuses(text: str, reason: str) -> None:
    with pytest.raises(SearchQueryError, match=reason):
        parse_search(text)


def test_an_empty_query_is_empty() -> None:
    assert parse_search("  ").empty
    assert not parse_search("channel:x").empty
