"""The inbox search box's language, parsed into terms (pure; no SQL here).

    refund "never arrived" @jane from:jane@example.com channel:x

- a word matches a ticket whose messages, subject, or customer (name, handle, e-mail)
  contain it; every word must match somewhere in the ticket, not necessarily in the
  same message;
- a "quoted phrase" matches those words next to each other in one message, subject,
  name or address;
- the last word is also matched as a prefix (``parc`` finds "parcel") when it is plain
  letters and digits of at least ``PREFIX_MIN`` characters, and so is any word typed
  with a trailing ``*``;
- ``@handle`` is the customer's handle on any network (case-insensitive, no prefix);
  ``from:handle`` the same, ``from:name@example.com`` the customer's e-mail address or
  handle;
- ``channel:x`` keeps tickets from that network (several ``channel:`` mean any of them).

Everything else (``NEAR``, ``-``, ``:``, ``*`` on their own, ``AND``/``OR``) is plain
text: the store quotes every term, so nothing a user types is query syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from socialdesk.domain.enums import Platform

PREFIX_MIN = 3
MAX_TERMS = 12
# A term needs a letter or digit to match anything; "_" and punctuation are separators
# in both the SQLite and the PostgreSQL tokenizer.
_SEARCHABLE = re.compile(r"[^\W_]")
_PLAIN_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')


class SearchQueryError(ValueError):
    """A qualifier the user typed that cannot mean anything (e.g. an unknown channel)."""


@dataclass(frozen=True, slots=True)
class TextTerm:
    """A word or a quoted phrase, as typed (the store tokenizes it as it indexes text)."""

    text: str
    prefix: bool = False
    phrase: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    terms: tuple[TextTerm, ...] = ()
    # ``@handle`` and ``from:`` values, without a leading "@", lowercased.
    senders: tuple[str, ...] = ()
    channels: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.terms or self.senders or self.channels)


def parse_search(text: str) -> SearchQuery:
    terms: list[TextTerm] = []
    senders: list[str] = []
    channels: set[str] = set()
    valid_channels = {str(p) for p in Platform}
    last_plain: int | None = None
    for match in _TOKEN.finditer(text):
        quoted, bare = match.group(1), match.group(2)
        if quoted is not None:
            phrase = " ".join(quoted.split())
            if _SEARCHABLE.search(phrase):
                terms.append(TextTerm(phrase, phrase=" " in phrase))
            last_plain = None
            continue
        word = bare
        lowered = word.lower()
        if lowered.startswith("channel:") and len(word) > len("channel:"):
            for name in lowered[len("channel:") :].split(","):
                if not name:
                    continue
                if name not in valid_channels:
                    raise SearchQueryError(
                        f"unknown channel {name!r} in the search; use "
                        + ", ".join(sorted(valid_channels))
                    )
                channels.add(name)
            last_plain = None
            continue
        if lowered.startswith("from:") and _SEARCHABLE.search(word[5:]):
            senders.append(lowered[5:].lstrip("@"))
            last_plain = None
            continue
        if word.startswith("@") and _SEARCHABLE.search(word):
            senders.append(lowered.lstrip("@"))
            last_plain = None
            continue
        if word.endswith("*") and _PLAIN_WORD.fullmatch(word.rstrip("*")):
            terms.append(TextTerm(word.rstrip("*"), prefix=True))
            last_plain = None
            continue
        if not _SEARCHABLE.search(word):
            continue
        terms.append(TextTerm(word))
        last_plain = len(terms) - 1 if _PLAIN_WORD.fullmatch(word) else None
    # Only when the last thing typed was a plain word: the user may still be typing it.
    if last_plain is not None and last_plain == len(terms) - 1:
        term = terms[last_plain]
        if len(term.text) >= PREFIX_MIN:
            terms[last_plain] = TextTerm(term.text, prefix=True)
    if len(terms) + len(senders) > MAX_TERMS:
        raise SearchQueryError(f"a search may have at most {MAX_TERMS} words and senders")
    return SearchQuery(tuple(terms), tuple(dict.fromkeys(senders)), frozenset(channels))
