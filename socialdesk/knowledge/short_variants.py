"""Short variants of a canned answer for the networks with small limits, each checked
against that network's own length rule (``domain/length_rules.py``).

Pure: the saved short variant is used where it fits, else the full text; a text that
fits nowhere is shortened to its leading sentences (or words, ending in "…"). The
variables (``{first_name}``…) are measured as written: a name may add a few characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from socialdesk.domain.enums import Platform
from socialdesk.domain.length_rules import check_length, rule_for

# Networks at or under this public limit get a short variant (X, Bluesky, Mastodon).
SHORT_LIMIT = 500
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Variant:
    network: str
    text: str
    length: int
    limit: int | None
    unit: str
    fits: bool
    source: str  # "short_body", "body" or "shortened"


def small_networks(networks: Iterable[Platform] | None = None) -> list[Platform]:
    """The networks whose public limit is at most ``SHORT_LIMIT``."""
    chosen = list(Platform) if networks is None else list(networks)
    return [n for n in chosen if (limit := rule_for(n).limit) is not None and limit <= SHORT_LIMIT]


def shorten(text: str, network: Platform) -> str:
    """The longest run of leading sentences that fits, else leading words and "…"."""
    text = " ".join(text.split())
    if check_length(text, network).fits:
        return text
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{kept} {sentence}".strip()
        if not check_length(candidate, network).fits:
            break
        kept = candidate
    if kept:
        return kept
    words: list[str] = []
    for word in text.split():
        if not check_length(" ".join([*words, word]) + "…", network).fits:
            break
        words.append(word)
    return " ".join(words).rstrip(",;:") + "…" if words else ""


def variant_for(body: str, short_body: str | None, network: Platform) -> Variant:
    for source, text in (("short_body", short_body or ""), ("body", body)):
        text = text.strip()
        if text and check_length(text, network).fits:
            return _measured(network, text, source)
    base = (short_body or "").strip() or body
    return _measured(network, shorten(base, network), "shortened")


def variants(
    body: str, short_body: str | None, networks: Iterable[Platform] | None = None
) -> list[Variant]:
    """One suggested variant per small-limit network."""
    return [variant_for(body, short_body, n) for n in small_networks(networks)]


def _measured(network: Platform, text: str, source: str) -> Variant:
    check = check_length(text, network)
    return Variant(network.value, text, check.length, check.limit, check.unit, check.fits, source)
