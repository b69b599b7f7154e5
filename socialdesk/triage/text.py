"""Post text made ready for lexicons and n-gram features.

Handles and links are removed before anything scores the words: VADER reads ``@united``
as "united" (positive) and a URL's path as words.
"""

from __future__ import annotations

import itertools
import re
import zlib

import numpy as np

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


def hashed_features(cleaned: str, dimensions: int) -> tuple[np.ndarray, np.ndarray]:
    """Word uni/bigrams and character 3-grams, hashed into ``dimensions`` buckets.

    Returns (bucket indices, values); a bucket may repeat, and a dot product with the
    weights sums repeats, so no counting is needed. Words hash with crc32 (stable across
    runs, unlike ``hash``); character 3-grams with a multiplicative hash over the UTF-8
    bytes in numpy, which is what keeps the whole triage well under a millisecond. Each
    group is scaled so a long post does not outweigh a short one.
    """
    tokens = words(cleaned)
    grams = [f"w:{t}" for t in tokens]
    grams += [f"b:{a} {b}" for a, b in itertools.pairwise(tokens)]
    word_indices = np.fromiter(
        (zlib.crc32(gram.encode()) for gram in grams), dtype=np.int64, count=len(grams)
    )
    raw = np.frombuffer(f" {cleaned.lower()} ".encode(), dtype=np.uint8).astype(np.uint64)
    if len(raw) >= 3:
        mixed = (raw[:-2] * 16777619 + raw[1:-1] * 65599 + raw[2:] * 131 + 7) * 2654435761
        char_indices = ((mixed >> np.uint64(7)) & np.uint64(0xFFFFFFFF)).astype(np.int64)
    else:
        char_indices = np.zeros(0, dtype=np.int64)
    values = np.concatenate(
        [
            np.full(len(word_indices), 1.0 / max(1, len(word_indices)) ** 0.5),
            np.full(len(char_indices), 1.0 / max(1, len(char_indices)) ** 0.5),
        ]
    )
    return np.concatenate([word_indices, char_indices]) % dimensions, values
