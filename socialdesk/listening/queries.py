"""A saved search's terms, checked, and compiled to each network's search syntax. Pure.

- X recent search takes one boolean query (at most 512 characters): the terms ORed in
  parentheses, phrases quoted, each exclusion negated, retweets left out.
- Mastodon has no OR: each hashtag is read from its hashtag timeline
  (``/api/v1/timelines/tag/:hashtag``) and each term from ``/api/v2/search``.
- Bluesky's ``searchPosts`` ANDs the words of a query: one query per term or hashtag.

Exclusions are also applied to every post read (``is_excluded``), so networks whose
search cannot negate still honour them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from socialdesk.domain.enums import Platform

TERM_FIELDS = ("keywords", "hashtags", "brands", "misspellings", "exclusions")
MAX_TERMS = 20
MAX_TERM_LENGTH = 60
X_MAX_QUERY = 512
_HASHTAG_RE = re.compile(r"^\w{1,60}$")
LISTENING_NETWORKS = (Platform.X, Platform.MASTODON, Platform.BLUESKY)


@dataclass(frozen=True, slots=True)
class SearchTerms:
    keywords: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    misspellings: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()

    @property
    def words(self) -> tuple[str, ...]:
        """Brand names, their misspellings and keywords, once each, in that order."""
        seen: dict[str, str] = {}
        for term in (*self.brands, *self.misspellings, *self.keywords):
            seen.setdefault(term.lower(), term)
        return tuple(seen.values())


@dataclass(frozen=True, slots=True)
class NetworkQuery:
    """One request's query: ``kind`` is ``search`` (full text) or ``tag`` (a hashtag
    timeline, ``q`` the tag without ``#``)."""

    kind: str
    q: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.q}"


def _clean_list(name: str, value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = [part for part in re.split(r"[,\n]", value)]
    if not isinstance(value, list | tuple):
        raise ValueError(f"{name}: a list of words or phrases")
    out: dict[str, str] = {}
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"{name}: a list of words or phrases")
        term = " ".join(item.split())
        if name == "hashtags":
            term = term.removeprefix("#")
        if not term:
            continue
        if len(term) > MAX_TERM_LENGTH:
            raise ValueError(f"{name}: {term[:20]!r}… is longer than {MAX_TERM_LENGTH}")
        if any(ord(c) < 32 for c in term) or '"' in term:
            raise ValueError(f"{name}: {term!r} may not contain quotes or control characters")
        if name == "hashtags" and not _HASHTAG_RE.match(term):
            raise ValueError(f"hashtags: {term!r} is not a hashtag (letters, digits, _)")
        if term.upper() == "OR" or term.startswith("-"):
            raise ValueError(f"{name}: {term!r} is search syntax, not a term")
        out.setdefault(term.lower(), term)
    if len(out) > MAX_TERMS:
        raise ValueError(f"{name}: at most {MAX_TERMS}")
    return tuple(out.values())


def clean_terms(raw: Mapping[str, Any]) -> SearchTerms:
    """The terms as stored (trimmed, deduplicated, checked); ValueError says why not.
    A search needs at least one word or hashtag to look for, and must fit X's query."""
    terms = SearchTerms(**{name: _clean_list(name, raw.get(name)) for name in TERM_FIELDS})
    if not terms.words and not terms.hashtags:
        raise ValueError("give at least one keyword, brand name or hashtag")
    compile_x(terms)
    return terms


def _quoted(term: str) -> str:
    return f'"{term}"' if " " in term else term


def _negated(term: str) -> str:
    return "-" + _quoted(term)


def compile_x(terms: SearchTerms) -> list[NetworkQuery]:
    """``(acme OR acmee OR "acme air" OR #acmefail) -jobs -is:retweet``."""
    positives = [_quoted(t) for t in terms.words] + [f"#{tag}" for tag in terms.hashtags]
    group = positives[0] if len(positives) == 1 else "(" + " OR ".join(positives) + ")"
    query = " ".join([group, *(_negated(t) for t in terms.exclusions), "-is:retweet"])
    if len(query) > X_MAX_QUERY:
        raise ValueError(f"the X query would be {len(query)} characters (X allows {X_MAX_QUERY})")
    return [NetworkQuery("search", query)]


def compile_mastodon(terms: SearchTerms) -> list[NetworkQuery]:
    tags = [NetworkQuery("tag", tag.lower()) for tag in terms.hashtags]
    return tags + [NetworkQuery("search", _quoted(t)) for t in terms.words]


def compile_bluesky(terms: SearchTerms) -> list[NetworkQuery]:
    return [NetworkQuery("search", _quoted(t)) for t in terms.words] + [
        NetworkQuery("search", f"#{tag}") for tag in terms.hashtags
    ]


COMPILERS = {
    Platform.X: compile_x,
    Platform.MASTODON: compile_mastodon,
    Platform.BLUESKY: compile_bluesky,
}


def compile_for(platform: Platform | str, terms: SearchTerms) -> list[NetworkQuery]:
    compiler = COMPILERS.get(Platform(platform))
    if compiler is None:
        raise ValueError(f"{platform} has no search to listen through")
    return compiler(terms)


def _contains(text: str, term: str) -> bool:
    pattern = r"(?<![\w])" + re.escape(term.lower()) + r"(?![\w])"
    return re.search(pattern, text.lower()) is not None


def is_excluded(text: str, exclusions: tuple[str, ...]) -> bool:
    """Does the post contain an excluded word or phrase (whole words, any case)?"""
    return any(_contains(text, term) for term in exclusions)
