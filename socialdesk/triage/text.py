"""Post text made ready for lexicons and n-gram features.

Handles and links are removed before anything scores the words: VADER reads ``@united``
as "united" (positive) and a URL's path as words.
"""

from __future__ import annotations

import itertools
import re
import zlib

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<!\w)@\w+")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9']+|[!?]+|[^\sa-z0-9]", re.IGNORECASE)
_HTML_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'"}


def clean(text: str) -> str:
    """The text without @handles, links and twcs's HTML entities, whitespace folded."""
    for entity, char in _HTML_ENTITIES.items():
        text = text.replace(entity, char)
    text = _URL.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def words(cleaned: str) -> list[str]:
    """Lower-cased word tokens; runs of ! and ? stay tokens of their own (they carry tone)."""
    return [token.lower() for token in _WORD.findall(cleaned)]


def hashed_features(cleaned: str, dimensions: int) -> dict[int, float]:
    """Word uni/bigrams and character 3-grams, hashed (crc32: stable across runs) and counted.

    Each group is scaled so a long post does not outweigh a short one.
    """
    tokens = words(cleaned)
    grams = [f"w:{t}" for t in tokens]
    grams += [f"b:{a} {b}" for a, b in itertools.pairwise(tokens)]
    lowered = f" {cleaned.lower()} "
    chars = [f"c:{lowered[i : i + 3]}" for i in range(len(lowered) - 2)]
    counts: dict[int, float] = {}
    for group in (grams, chars):
        if not group:
            continue
        weight = 1.0 / len(group) ** 0.5
        for gram in group:
            index = zlib.crc32(gram.encode()) % dimensions
            counts[index] = counts.get(index, 0.0) + weight
    return counts
