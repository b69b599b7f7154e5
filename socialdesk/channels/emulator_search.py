"""The search query language the emulators evaluate over their stored posts: words
(whole words, any case, a leading ``#``/``@`` of the post's word ignored), ``"quoted
phrases"``, ``#hashtags``, ``-negation``, ``OR``, parentheses, implicit AND, and the
operators ``from:handle``, ``is:retweet`` (no emulator stores retweets) and ``lang:``
(not tracked: always true). X's recent search, Mastodon's and Bluesky's searches are
subsets of it. Pure."""

from __future__ import annotations

import re
from collections.abc import Callable

_TOKEN_RE = re.compile(r'\(|\)|-?"[^"]*"|-?[^\s()"]+')

Matcher = Callable[[str, str], bool]  # (text, author handle) → matches


class QuerySyntaxError(ValueError):
    pass


def _word_matcher(word: str) -> Matcher:
    lowered = word.lower()
    if lowered.startswith("from:"):
        handle = lowered[5:].lstrip("@")
        return lambda _text, author: author.lower() == handle
    if lowered.startswith("is:"):
        return lambda _text, _author: False
    if lowered.startswith("lang:"):
        return lambda _text, _author: True
    if lowered.startswith("#"):
        pattern = re.compile(r"(?<![\w#])" + re.escape(lowered) + r"(?!\w)", re.IGNORECASE)
    else:
        pattern = re.compile(r"(?<!\w)[#@]?" + re.escape(lowered) + r"(?!\w)", re.IGNORECASE)
    return lambda text, _author: pattern.search(text) is not None


def _phrase_matcher(phrase: str) -> Matcher:
    pattern = re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", re.IGNORECASE)
    return lambda text, _author: pattern.search(text) is not None


def compile_query(query: str) -> Matcher:
    tokens = _TOKEN_RE.findall(query)
    if not tokens:
        raise QuerySyntaxError("empty query")
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def atom() -> Matcher:
        part = take()
        negate = part.startswith("-") and len(part) > 1
        if negate:
            part = part[1:]
        if part == "(":
            inner = any_of()
            if take_if(")") is None:
                raise QuerySyntaxError("unbalanced parentheses")
            matcher = inner
        elif part == ")":
            raise QuerySyntaxError("unbalanced parentheses")
        elif part.startswith('"'):
            matcher = _phrase_matcher(part.strip('"'))
        else:
            matcher = _word_matcher(part)
        if negate:
            positive = matcher
            return lambda text, author: not positive(text, author)
        return matcher

    def take_if(expected: str) -> str | None:
        return take() if peek() == expected else None

    def all_of() -> Matcher:
        parts = [atom()]
        while peek() not in (None, ")", "OR"):
            parts.append(atom())
        return lambda text, author: all(part(text, author) for part in parts)

    def any_of() -> Matcher:
        parts = [all_of()]
        while take_if("OR") is not None:
            parts.append(all_of())
        return lambda text, author: any(part(text, author) for part in parts)

    matcher = any_of()
    if peek() is not None:
        raise QuerySyntaxError("unbalanced parentheses")
    return matcher
