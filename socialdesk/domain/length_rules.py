"""How long a reply may be on each network, and how to cut a long one into a thread.

Every network counts differently: X weighs code points and charges a flat 23 for a URL,
Bluesky counts user-perceived characters (grapheme clusters) and also caps UTF-8 bytes,
Instagram DMs cap bytes only. Counting the way the network does matters because a reply
that is one unit too long is rejected at send time, after the agent has moved on.

Where we had to guess, we guess long: an over-count makes an agent trim a reply that
would have gone through, an under-count makes a send fail.

Pure functions only; see docs/channel-rules.md for the sources and worked examples.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import regex
from twitter_text import extract_urls_with_indices, parse_tweet

from socialdesk.domain.enums import Platform, Visibility

# --------------------------------------------------------------------------------------
# Grapheme clusters (UAX #29, extended clusters): the `regex` module's \X follows the
# current Unicode release, including the rules a hand-written segmenter tends to miss
# (GB9c Indic conjuncts, GB11 emoji ZWJ sequences, regional-indicator pairs).
# --------------------------------------------------------------------------------------

_GRAPHEME_RE = regex.compile(r"\X")


def iter_graphemes(text: str) -> Iterator[str]:
    """Yield the extended grapheme clusters of ``text`` (what a reader sees as one
    character: an emoji sequence, a letter with its accents, a flag, a Hangul syllable)."""
    for match in _GRAPHEME_RE.finditer(text):
        yield match.group()


def grapheme_count(text: str) -> int:
    if text.isascii():  # fast path: in ASCII only CR LF joins
        return len(text) - text.count("\r\n")
    return len(_GRAPHEME_RE.findall(text))


# --------------------------------------------------------------------------------------
# URL detection. X and Mastodon charge a flat 23 per URL, and the splitter must never cut
# one in two. twitter-text-parser implements twitter-text's extractor (its TLD lists,
# CJK boundaries, invalid hosts, t.co slugs) and passes its published conformance cases,
# which our own regular expressions did not.
# --------------------------------------------------------------------------------------

URL_COST = 23


def url_spans(text: str, *, bare_domains: bool = True) -> list[tuple[int, int]]:
    """Start/end offsets of the URLs in ``text``, in order, not overlapping. Without
    ``bare_domains`` only links with an http(s) scheme count (Mastodon's rule)."""
    if "." not in text:  # every URL has a dot in its host
        return []
    spans: list[tuple[int, int]] = []
    for found in extract_urls_with_indices(text):
        start, end = found["indices"]
        if bare_domains or found["url"].lower().startswith(("http://", "https://")):
            spans.append((int(start), int(end)))
    return spans


# --------------------------------------------------------------------------------------
# Counters, one per way a network measures.
# --------------------------------------------------------------------------------------


def x_weighted_length(text: str) -> int:
    """X's weighted length (twitter-text v3: NFC, each URL 23, emoji sequences 2, CJK 2),
    from twitter-text-parser, which passes twitter-text's published conformance cases
    (tests/domain/test_twitter_text_conformance.py)."""
    if text.isascii() and "." not in text:  # fast path: no URL possible, every code point 1
        return len(text)
    return int(parse_tweet(text).weightedLength)


# Mastodon counts a remote mention "@user@host" as the local part "@user".
_MASTODON_MENTION_RE = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?)@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE
)


def mastodon_length(text: str) -> int:
    """Mastodon's count: code points, with each http(s) URL at 23 and remote mentions
    at their local part. Mastodon 4 counts grapheme clusters; code points are never
    fewer, so this errs on the safe side."""
    pieces: list[str] = []
    pos = 0
    for start, end in url_spans(text, bare_domains=False):
        pieces.append(text[pos:start])
        pieces.append("x" * URL_COST)
        pos = end
    pieces.append(text[pos:])
    return len(_MASTODON_MENTION_RE.sub(r"@\1", "".join(pieces)))


def code_point_length(text: str) -> int:
    return len(text)


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8", errors="surrogatepass"))


# --------------------------------------------------------------------------------------
# Rules per network and surface.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LengthRule:
    """How one network (and surface: public post or private message) limits a text."""

    network: Platform
    unit: str
    limit: int | None
    counter: Callable[[str], int]
    # A second cap in UTF-8 bytes, binding only for byte-heavy text (Bluesky).
    byte_limit: int | None = None
    threads: bool = False
    source: str = ""
    confirmed: bool = True


@dataclass(frozen=True, slots=True)
class LengthCheck:
    """The outcome of measuring one text; ``limit`` and ``remaining`` are None when the
    network has no practical limit. When two caps apply, this reports the main one unless
    the text breaks only the other."""

    length: int
    limit: int | None
    remaining: int | None
    fits: bool
    unit: str


_WEIGHTED = "weighted characters"
_CHARS = "characters"
_GRAPHEMES = "graphemes"
_BYTES = "UTF-8 bytes"

_PUBLIC_RULES: dict[Platform, LengthRule] = {
    Platform.X: LengthRule(
        Platform.X, _WEIGHTED, 280, x_weighted_length, threads=True,
        source="twitter-text config v3 (platform spec 1.5)",
    ),
    Platform.FACEBOOK: LengthRule(
        Platform.FACEBOOK, _CHARS, 8000, code_point_length,
        source="commonly cited Page comment limit", confirmed=False,
    ),
    Platform.MESSENGER: LengthRule(
        Platform.MESSENGER, _CHARS, 2000, code_point_length, source="platform spec 2.3",
    ),
    Platform.INSTAGRAM: LengthRule(
        Platform.INSTAGRAM, _CHARS, 2200, code_point_length,
        source="commonly cited caption/comment limit", confirmed=False,
    ),
    Platform.MASTODON: LengthRule(
        Platform.MASTODON, _CHARS, 500, mastodon_length, threads=True,
        source="instance default max_characters (platform spec 3)",
    ),
    Platform.BLUESKY: LengthRule(
        Platform.BLUESKY, _GRAPHEMES, 300, grapheme_count, byte_limit=3000, threads=True,
        source="app.bsky.feed.post lexicon (platform spec 4)",
    ),
    Platform.EMAIL: LengthRule(Platform.EMAIL, _CHARS, None, code_point_length),
    Platform.WEB: LengthRule(Platform.WEB, _CHARS, None, code_point_length),
}  # fmt: skip

# Private surfaces that differ from the public one. Others reuse the public rule.
_PRIVATE_RULES: dict[Platform, LengthRule] = {
    Platform.X: LengthRule(
        Platform.X, _CHARS, 10_000, code_point_length,
        source="often-cited DM limit (platform spec 1.5)", confirmed=False,
    ),
    # A Page's private reply to a comment goes out through the Messenger send API.
    Platform.FACEBOOK: _PUBLIC_RULES[Platform.MESSENGER],
    Platform.INSTAGRAM: LengthRule(
        Platform.INSTAGRAM, _BYTES, 1000, utf8_length, source="platform spec 2.3",
    ),
    # chat.bsky.convo.defs#messageInput: maxGraphemes 1000, maxLength 10000 (bytes).
    Platform.BLUESKY: LengthRule(
        Platform.BLUESKY, _GRAPHEMES, 1000, grapheme_count, byte_limit=10_000,
        source="chat.bsky.convo.sendMessage (platform spec 4)",
    ),
}  # fmt: skip


def register_length_rules(public: LengthRule, private: LengthRule | None = None) -> None:
    """Add (or replace) a network's rules: how a descriptor registered at run time
    (``channels/networks.py``) tells the counters and the splitter about its network.
    ``public`` also serves private messages when no ``private`` rule is given."""
    _PUBLIC_RULES[public.network] = public
    if private is not None:
        _PRIVATE_RULES[public.network] = private


def rule_for(network: Platform, visibility: Visibility = Visibility.PUBLIC) -> LengthRule:
    """The rule for a public post/comment or, with ``Visibility.PRIVATE``, a DM."""
    if visibility == Visibility.PRIVATE and network in _PRIVATE_RULES:
        return _PRIVATE_RULES[network]
    return _PUBLIC_RULES[network]


def allows_threading(network: Platform) -> bool:
    """Whether a long answer may go out as a numbered chain of replies."""
    return _PUBLIC_RULES[network].threads


def count_length(
    text: str, network: Platform, *, visibility: Visibility = Visibility.PUBLIC
) -> int:
    """The length of ``text`` in the network's own unit (see ``rule_for(...).unit``)."""
    return rule_for(network, visibility).counter(text)


def _measures(text: str, rule: LengthRule, limit: int | None) -> list[tuple[int, int | None, str]]:
    measures: list[tuple[int, int | None, str]] = [(rule.counter(text), limit, rule.unit)]
    if rule.byte_limit is not None:
        measures.append((utf8_length(text), rule.byte_limit, _BYTES))
    return measures


def check_length(
    text: str,
    network: Platform,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    limit: int | None = None,
) -> LengthCheck:
    """Measure ``text`` against the network's limit.

    ``limit`` overrides the main cap, for Mastodon instances configured above 500.
    """
    rule = rule_for(network, visibility)
    cap = rule.limit if limit is None else limit
    measures = _measures(text, rule, cap)
    fits = all(cap_ is None or length <= cap_ for length, cap_, _ in measures)
    # Show the network's main unit unless only a secondary cap is broken, so that a byte
    # overflow on Bluesky shows up as bytes rather than as graphemes to spare.
    length, shown_cap, unit = next(
        (m for m in measures if m[1] is not None and m[0] > m[1]), measures[0]
    )
    remaining = None if shown_cap is None else shown_cap - length
    return LengthCheck(length=length, limit=shown_cap, remaining=remaining, fits=fits, unit=unit)


# --------------------------------------------------------------------------------------
# Thread splitting.
# --------------------------------------------------------------------------------------

_SENTENCE, _WORD, _CLUSTER = range(3)
# Sentence ends: Western punctuation (with closing quotes/brackets) before whitespace, or
# CJK full stops, which are not followed by a space; a line break ends a sentence too.
_SENTENCE_END_RE = re.compile(
    "[.!?\u2026]+[\"')\\]\u2019\u201d\u00bb]*(?=\\s)|[\u3002\uff01\uff1f]+[\u300d\u300f\uff09]*"
)


def _break_points(text: str) -> list[list[int]]:
    """Offsets where a part may end, by preference: sentence, word, then cluster."""
    protected = url_spans(text)
    url_starts = [start for start, _ in protected]

    def inside_url(pos: int) -> bool:
        i = bisect_left(url_starts, pos) - 1
        return i >= 0 and pos < protected[i][1]

    sentence = {m.end() for m in _SENTENCE_END_RE.finditer(text)}
    sentence |= {m.start() for m in re.finditer(r"\n", text)}
    word = {m.start() for m in re.finditer(r"\s+", text)}
    cluster: set[int] = set()
    pos = 0
    for piece in iter_graphemes(text):
        pos += len(piece)
        cluster.add(pos)
    # The end of the text closes a sentence, so a rest that fits is always taken whole.
    return [
        sorted({len(text)} | {p for p in level if p > 0 and not inside_url(p)})
        for level in (sentence, word, cluster)
    ]


def _furthest_fit(
    text: str, start: int, stop: int, points: list[int], fits: Callable[[str], bool]
) -> int | None:
    """The furthest break point in (start, stop) whose piece fits, or None.

    Counts grow with the piece at these break points, so a galloping search followed by
    bisection finds it while measuring only a handful of pieces of about a part's size.
    """
    candidates = points[bisect_left(points, start + 1) : bisect_left(points, stop)]

    def ok(i: int) -> bool:
        return fits(text[start : candidates[i]].rstrip())

    if not candidates or not ok(0):
        return None
    lo, step = 0, 1
    while lo + step < len(candidates) and ok(lo + step):
        lo += step
        step *= 2
    hi = min(lo + step, len(candidates))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return candidates[lo]


def _pack(text: str, points: list[list[int]], fits: Callable[[str], bool]) -> list[str]:
    sentences, words, clusters = points
    parts: list[str] = []
    start = 0
    while True:
        while start < len(text) and text[start].isspace():
            start += 1
        if start >= len(text):
            return parts
        # The finest level bounds the others: past the first cluster break that does not
        # fit, nothing fits, so sentence and word breaks are only sought before it. This
        # keeps every measured piece near a part's size even in a very long text.
        reach = _furthest_fit(text, start, len(text) + 1, clusters, fits)
        if reach is None:
            raise ValueError(
                f"cannot split at offset {start}: the next unbreakable piece (a URL?) is "
                "longer than the limit"
            )
        after = bisect_right(clusters, reach)
        stop = clusters[after] if after < len(clusters) else len(text) + 1
        end = _furthest_fit(text, start, stop, sentences, fits)
        if end is None:
            end = _furthest_fit(text, start, stop, words, fits) or reach
        parts.append(text[start:end].rstrip())
        start = end


def split_into_thread(
    text: str,
    network: Platform,
    numbering: bool = True,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    limit: int | None = None,
) -> list[str]:
    """Cut ``text`` into parts that each fit, to be posted as a chain of replies.

    A text that fits comes back alone and unchanged. Otherwise parts end at sentence
    ends where possible, else between words, else between grapheme clusters (for
    unspaced scripts); never inside a URL or an emoji sequence. With ``numbering``
    every part gets a " 2/5" suffix, counted within the limit. Raises ValueError for a
    too-long text on a network without threads.
    """
    rule = rule_for(network, visibility)
    cap = rule.limit if limit is None else limit
    if check_length(text, network, visibility=visibility, limit=limit).fits:
        return [text]
    if not rule.threads:
        check = check_length(text, network, visibility=visibility, limit=limit)
        raise ValueError(
            f"{network.value} has no threads and the text is {check.length} {check.unit} "
            f"(limit {check.limit}); shorten it"
        )

    def fits_with(suffix: str) -> Callable[[str], bool]:
        def fits(piece: str) -> bool:
            candidate = piece + suffix
            return all(c is None or n <= c for n, c, _ in _measures(candidate, rule, cap))

        return fits

    body = text.strip()
    points = _break_points(body)
    if not numbering:
        return _pack(body, points, fits_with(""))
    # The suffix width depends on the part count, which depends on the suffix width:
    # reserve room for the widest label of each digit count until the count fits it.
    for digits in range(1, 5):
        widest = " " + "9" * digits + "/" + "9" * digits
        parts = _pack(body, points, fits_with(widest))
        if len(parts) == 1:
            return parts
        if len(parts) < 10**digits:
            total = len(parts)
            return [f"{part} {i}/{total}" for i, part in enumerate(parts, start=1)]
    raise ValueError("text too long to number as a thread")
