"""Words for matching: lower-cased, stop words dropped, English Snowball stems.

Handles (`@brand`) are dropped: every message to a brand names it, so they only add
noise. Links are kept as words (`support.apple.com/en-us/HT201276` → `support`, `apple`,
`ht201276`), because a customer pasting a help link names the article they are on.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote, urlsplit

import snowballstemmer
from bm25s.stopwords import STOPWORDS_EN

_HANDLE = re.compile(r"(?<!\w)@\w+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Extra words every help link and tweet carries that say nothing of the question.
_NOISE = frozenset(
    {
        "https",
        "http",
        "www",
        "com",
        "html",
        "htm",
        "en",
        "us",
        "hc",
        "articles",
        "article",
        "answer",
        "hl",
        "web",
        "archive",
        "org",
        "amp",
    }
)
_STOP = frozenset(STOPWORDS_EN) | {
    "i",
    "me",
    "my",
    "you",
    "your",
    "we",
    "our",
    "can",
    "do",
    "does",
    "did",
    "am",
    "have",
    "has",
    "had",
    "so",
    "just",
    "im",
    "its",
    "get",
    "please",
    "hi",
    "hello",
}
_ARCHIVED = re.compile(r"^https?://web\.archive\.org/web/\d+[a-z_]*/", re.IGNORECASE)


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def words(text: str) -> list[str]:
    """The stems of `text`, in order, without handles, stop words and link noise."""
    text = _HANDLE.sub(" ", text.lower())
    out = []
    for word in _WORD.findall(text):
        if word in _STOP or word in _NOISE or len(word) < 2 or word.isdigit():
            continue
        out.append(_stem(word))
    return out


def surface_words(text: str) -> list[tuple[str, str]]:
    """Like `words`, each stem with the word it came from (a label reads the word)."""
    text = _HANDLE.sub(" ", text.lower())
    out = []
    for word in _WORD.findall(text):
        if word in _STOP or word in _NOISE or len(word) < 2 or word.isdigit():
            continue
        out.append((_stem(word), word))
    return out


def url_words(url: str) -> list[str]:
    """What a help link says about its article: its host's name and its path, stemmed.

    An archived link (`web.archive.org/web/<time>/<original>`) is read as the original.
    """
    original = _ARCHIVED.sub("", url.strip())
    if "://" not in original:
        original = "https://" + original
    parts = urlsplit(original)
    host = [p for p in parts.hostname.split(".") if p] if parts.hostname else []
    path = unquote(parts.path + " " + parts.query)
    return words(" ".join(host[:-1]) + " " + path.replace("-", " ").replace("_", " "))
