"""Saved-search terms compiled to each network's query syntax (pure), and the emulators'
query language they are evaluated by."""

from __future__ import annotations

import pytest

from socialdesk.channels.emulator_search import QuerySyntaxError, compile_query
from socialdesk.domain.enums import Platform
from socialdesk.listening.queries import (
    NetworkQuery,
    SearchTerms,
    clean_terms,
    compile_for,
    is_excluded,
)

ACME = SearchTerms(
    keywords=("lost luggage",),
    hashtags=("acmefail",),
    brands=("Acme Air",),
    misspellings=("acmee",),
    exclusions=("jobs", "hiring now"),
)

COMPILED = [
    (
        Platform.X,
        ACME,
        [
            NetworkQuery(
                "search",
                '("Acme Air" OR acmee OR "lost luggage" OR #acmefail) -jobs -"hiring now" '
                "-is:retweet",
            )
        ],
    ),
    (
        Platform.X,
        SearchTerms(brands=("acme",)),
        [NetworkQuery("search", "acme -is:retweet")],
    ),
    (
        Platform.MASTODON,
        ACME,
        [
            NetworkQuery("tag", "acmefail"),
            NetworkQuery("search", '"Acme Air"'),
            NetworkQuery("search", "acmee"),
            NetworkQuery("search", '"lost luggage"'),
        ],
    ),
    (
        Platform.BLUESKY,
        ACME,
        [
            NetworkQuery("search", '"Acme Air"'),
            NetworkQuery("search", "acmee"),
            NetworkQuery("search", '"lost luggage"'),
            NetworkQuery("search", "#acmefail"),
        ],
    ),
    (
        Platform.BLUESKY,
        SearchTerms(brands=("Acme", "acme"), keywords=("ACME",)),
        [NetworkQuery("search", "Acme")],
    ),
]


@pytest.mark.parametrize(("platform", "terms", "expected"), COMPILED)
def test_terms_compile_to_each_networks_syntax(
    platform: Platform, terms: SearchTerms, expected: list[NetworkQuery]
) -> None:
    assert compile_for(platform, terms) == expected


CLEANED = [
    ({"brands": ["  Acme   Air "], "hashtags": ["#AcmeFail"]}, ("Acme Air",), ("AcmeFail",)),
    ({"keywords": "refund, delayed flight\nacme"}, ("refund", "delayed flight", "acme"), ()),
    ({"hashtags": "acme", "brands": ["acme", "ACME"]}, ("acme",), ("acme",)),
]


@pytest.mark.parametrize(("raw", "words", "hashtags"), CLEANED)
def test_terms_are_trimmed_and_deduplicated(
    raw: dict[str, object], words: tuple[str, ...], hashtags: tuple[str, ...]
) -> None:
    terms = clean_terms(raw)
    assert (terms.words, terms.hashtags) == (words, hashtags)


REFUSED = [
    ({}, "at least one keyword"),
    ({"exclusions": ["jobs"]}, "at least one keyword"),
    ({"brands": ['say "hi"']}, "quotes"),
    ({"brands": ["OR"]}, "search syntax"),
    ({"brands": ["-acme"]}, "search syntax"),
    ({"hashtags": ["two words"]}, "not a hashtag"),
    ({"brands": "x" * 61}, "longer than 60"),
    ({"keywords": [f"term{i}" for i in range(21)]}, "at most 20"),
    ({"keywords": [f"{'w' * 50}{i}" for i in range(20)]}, "X allows 512"),
    ({"brands": [3]}, "a list of words"),
    ({"brands": {"a": 1}}, "a list of words"),
]


@pytest.mark.parametrize(("raw", "reason"), REFUSED)
def test_bad_terms_are_refused_with_the_reason(raw: dict[str, object], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        clean_terms(raw)


EXCLUDED = [
    ("Acme is hiring: jobs at acme.com", ("jobs",), True),
    ("Acme lost my bag", ("jobs",), False),
    ("acme JOBS", ("jobs",), True),
    ("acme jobsworth", ("jobs",), False),
    ("we are hiring now!", ("hiring now",), True),
]


@pytest.mark.parametrize(("text", "exclusions", "excluded"), EXCLUDED)
def test_exclusions_are_whole_words_in_any_case(
    text: str, exclusions: tuple[str, ...], excluded: bool
) -> None:
    assert is_excluded(text, exclusions) is excluded


MATCHES = [
    ('("Acme Air" OR acmee) -jobs -is:retweet', "Flying Acme Air today", True),
    ('("Acme Air" OR acmee) -jobs -is:retweet', "acmee lost my bag", True),
    ('("Acme Air" OR acmee) -jobs -is:retweet', "acmee jobs fair", False),
    ('("Acme Air" OR acmee) -jobs -is:retweet', "acme air-fryer", True),
    ('("Acme Air" OR acmee) -jobs -is:retweet', "acmeeee", False),
    ("#acmefail", "so #AcmeFail again", True),
    ("#acmefail", "acmefail without the tag", False),
    ("acme", "loving #acme today", True),
    ("acme from:ana", "acme rocks", True),
    ("acme from:bob", "acme rocks", False),
    ("refund delayed", "delayed again, want a refund", True),
    ("refund delayed", "want a refund", False),
]


@pytest.mark.parametrize(("query", "text", "expected"), MATCHES)
def test_emulator_query_language(query: str, text: str, expected: bool) -> None:
    assert compile_query(query)(text, "ana") is expected


@pytest.mark.parametrize("query", ["", "(acme", "acme)", "   "])
def test_emulator_refuses_malformed_queries(query: str) -> None:
    with pytest.raises(QuerySyntaxError):
        compile_query(query)
