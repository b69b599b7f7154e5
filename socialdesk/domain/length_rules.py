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
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from socialdesk.domain.enums import Platform, Visibility

# --------------------------------------------------------------------------------------
# Grapheme clusters (UAX #29, extended clusters). The standard library has no segmenter
# and the property tables are not in ``unicodedata``, so the properties are derived
# from general categories plus the few explicit code point lists that matter.
# The Indic conjunct rule (GB9c, Unicode 15.1) is left out on purpose: without it we
# count a conjunct as several clusters, which errs on the long side.
# --------------------------------------------------------------------------------------

_OTHER, _CR, _LF, _CONTROL, _EXTEND, _ZWJ, _RI, _PREPEND, _SPACING = range(9)
_L, _V, _T, _LV, _LVT, _PICT = range(9, 15)

_ZWJ_CHAR = "\u200d"
_VS16 = "\ufe0f"
_KEYCAP = "\u20e3"

_PREPEND_CPS = frozenset(
    [*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x0D4E, 0x110BD,
     0x110CD, 0x111C2, 0x111C3, 0x1193F, 0x11941, 0x11A3A, *range(0x11A84, 0x11A8A), 0x11D46]
)  # fmt: skip

# Extended_Pictographic (emoji-data.txt), as inclusive ranges. Only rule GB11 needs it:
# it is what keeps a ZWJ sequence such as a family emoji in one cluster.
_PICT_RANGES: tuple[tuple[int, int], ...] = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049),
    (0x2122, 0x2122), (0x2139, 0x2139), (0x2194, 0x2199), (0x21A9, 0x21AA),
    (0x231A, 0x231B), (0x2328, 0x2328), (0x2388, 0x2388), (0x23CF, 0x23CF),
    (0x23E9, 0x23F3), (0x23F8, 0x23FA), (0x24C2, 0x24C2), (0x25AA, 0x25AB),
    (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE), (0x2600, 0x2605),
    (0x2607, 0x2612), (0x2614, 0x2685), (0x2690, 0x2705), (0x2708, 0x2712),
    (0x2714, 0x2714), (0x2716, 0x2716), (0x271D, 0x271D), (0x2721, 0x2721),
    (0x2728, 0x2728), (0x2733, 0x2734), (0x2744, 0x2744), (0x2747, 0x2747),
    (0x274C, 0x274C), (0x274E, 0x274E), (0x2753, 0x2755), (0x2757, 0x2757),
    (0x2763, 0x2767), (0x2795, 0x2797), (0x27A1, 0x27A1), (0x27B0, 0x27B0),
    (0x27BF, 0x27BF), (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50), (0x2B55, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D),
    (0x3297, 0x3297), (0x3299, 0x3299), (0x1F000, 0x1F0FF), (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F), (0x1F16C, 0x1F171), (0x1F17E, 0x1F17F), (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A), (0x1F1AD, 0x1F1E5), (0x1F201, 0x1F20F), (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F), (0x1F232, 0x1F23A), (0x1F23C, 0x1F23F), (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D), (0x1F546, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF), (0x1F80C, 0x1F80F), (0x1F848, 0x1F84F), (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F), (0x1F8AE, 0x1F8FF), (0x1F90C, 0x1F93A), (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF), (0x1FC00, 0x1FFFD),
)  # fmt: skip
_PICT_STARTS = [start for start, _ in _PICT_RANGES]


def _is_pictographic(cp: int) -> bool:
    i = bisect_right(_PICT_STARTS, cp) - 1
    return i >= 0 and cp <= _PICT_RANGES[i][1]


def _is_regional_indicator(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def _is_emoji_modifier(cp: int) -> bool:
    return 0x1F3FB <= cp <= 0x1F3FF


@lru_cache(maxsize=8192)
def _gcb(ch: str) -> int:
    """Grapheme_Cluster_Break property of one code point (approximation, see above)."""
    cp = ord(ch)
    if ch == "\r":
        return _CR
    if ch == "\n":
        return _LF
    if ch == _ZWJ_CHAR:
        return _ZWJ
    if _is_regional_indicator(cp):
        return _RI
    # Skin tones, emoji tags, ZWNJ and the halfwidth kana voicing marks are Extend even
    # though their general category alone would say otherwise.
    if _is_emoji_modifier(cp) or 0xE0020 <= cp <= 0xE007F or cp in (0x200C, 0xFF9E, 0xFF9F):
        return _EXTEND
    if cp in _PREPEND_CPS:
        return _PREPEND
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return _L
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return _V
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return _T
    if 0xAC00 <= cp <= 0xD7A3:
        return _LV if (cp - 0xAC00) % 28 == 0 else _LVT
    category = unicodedata.category(ch)
    if category in ("Mn", "Me"):
        return _EXTEND
    if category == "Mc" or cp in (0x0E33, 0x0EB3):
        return _SPACING
    if category in ("Cc", "Cf", "Zl", "Zp", "Cs"):
        return _CONTROL
    if _is_pictographic(cp):
        return _PICT
    return _OTHER


def _joins(prev: int, cur: int, pict_zwj: bool, ri_run: int) -> bool:
    """True when there is no cluster boundary between two adjacent code points."""
    if prev == _CR and cur == _LF:  # GB3
        return True
    if prev in (_CONTROL, _CR, _LF) or cur in (_CONTROL, _CR, _LF):  # GB4, GB5
        return False
    if prev == _L and cur in (_L, _V, _LV, _LVT):  # GB6
        return True
    if prev in (_LV, _V) and cur in (_V, _T):  # GB7
        return True
    if prev in (_LVT, _T) and cur == _T:  # GB8
        return True
    if cur in (_EXTEND, _ZWJ, _SPACING) or prev == _PREPEND:  # GB9, GB9a, GB9b
        return True
    if prev == _ZWJ and cur == _PICT and pict_zwj:  # GB11
        return True
    return prev == _RI and cur == _RI and ri_run % 2 == 1  # GB12, GB13


def iter_graphemes(text: str) -> Iterator[str]:
    """Yield the extended grapheme clusters of ``text`` (what a reader sees as one
    character: an emoji sequence, a letter with its accents, a flag, a Hangul syllable)."""
    start = 0
    prev = -1
    in_pict = False  # inside "ExtPict Extend*"
    pict_zwj = False  # the previous code point is a ZWJ that follows "ExtPict Extend*"
    ri_run = 0
    for i, ch in enumerate(text):
        cur = _gcb(ch)
        if i and not _joins(prev, cur, pict_zwj, ri_run):
            yield text[start:i]
            start = i
        pict_zwj = cur == _ZWJ and in_pict
        in_pict = cur == _PICT or (in_pict and cur == _EXTEND)
        ri_run = ri_run + 1 if cur == _RI else 0
        prev = cur
    if text:
        yield text[start:]


def grapheme_count(text: str) -> int:
    if text.isascii():  # fast path: in ASCII only CR LF joins
        return len(text) - text.count("\r\n")
    return sum(1 for _ in iter_graphemes(text))


# --------------------------------------------------------------------------------------
# URL detection. X and Mastodon charge a flat 23 per URL, and the splitter must never cut
# one in two. Modelled loosely on twitter-text's rules: it matters most not to see URLs
# that are not there (that would under-count), so bare domains are only taken when the
# top-level domain is a well-known generic one, or a country code after two labels or
# with a path after it.
# --------------------------------------------------------------------------------------

URL_COST = 23

_GENERIC_TLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|name|pro|mobi|app|dev|page|blog|shop|store|"
    "online|site|tech|cloud|xyz|top|club|news|live|link|email|help|support|io|ai|co|tv"
)
_ASCII_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_SCHEME_URL_RE = re.compile(r"(?<![\w@$#])https?://[^\s<>\"]+", re.IGNORECASE)
_BARE_URL_RE = re.compile(
    rf"(?<![\w@$#.\-/:])((?:{_ASCII_LABEL}\.)+)({_GENERIC_TLDS}|[a-z]{{2}})(?![\w-])"
    r"(?::\d{1,5})?(/[^\s<>\"]*)?",
    re.IGNORECASE,
)
# A host after the scheme: dotted labels ending in an alphabetic TLD or a punycode one.
_SCHEME_HOST_RE = re.compile(
    r"https?://(?:[^\W_](?:[\w-]*[^\W_])?\.)+(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)(?::\d{1,5})?"
    r"(?:[/?#]|$)",
    re.IGNORECASE,
)
_TRAILING_PUNCT = frozenset(".,:;!?'\"*\u2019\u201d\u2026")
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def _trim_url(url: str) -> str:
    # Punctuation that ends a sentence is not part of the link, but a closing bracket that
    # balances one inside the link is (Wikipedia-style paths).
    while url:
        last = url[-1]
        unbalanced = last in _CLOSERS and url.count(_CLOSERS[last]) < url.count(last)
        if last not in _TRAILING_PUNCT and not unbalanced:
            break
        url = url[:-1]
    return url


def url_spans(text: str, *, bare_domains: bool = True) -> list[tuple[int, int]]:
    """Start/end offsets of the URLs in ``text``, in order, not overlapping."""
    spans: list[tuple[int, int]] = []
    for m in _SCHEME_URL_RE.finditer(text):
        url = _trim_url(m.group())
        if _SCHEME_HOST_RE.match(url):
            spans.append((m.start(), m.start() + len(url)))
    if bare_domains:
        for m in _BARE_URL_RE.finditer(text):
            labels, tld, path = m.group(1), m.group(2), m.group(3)
            # A single label before a country code ("file.py", "readme.md") is far more
            # often not a link; twitter-text only links it when a path follows.
            short_cc = len(tld) == 2 and labels.count(".") == 1 and tld.lower() not in ("co", "tv")
            if short_cc and (not path or len(path) < 2):
                continue
            end = m.start() + len(_trim_url(m.group()))
            if not any(s < end and m.start() < e for s, e in spans):
                spans.append((m.start(), end))
        spans.sort()
    return spans


# --------------------------------------------------------------------------------------
# Counters, one per way a network measures.
# --------------------------------------------------------------------------------------

_X_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))


def _x_code_point_weight(ch: str) -> int:
    cp = ord(ch)
    return 1 if any(lo <= cp <= hi for lo, hi in _X_LIGHT_RANGES) else 2


def _is_emoji_sequence(cluster: str) -> bool:
    """A multi-code-point cluster that X charges as one emoji (weight 2)."""
    if len(cluster) < 2:
        return False  # a lone emoji already weighs 2 by its code point
    first = ord(cluster[0])
    if _is_regional_indicator(first):
        return True
    if _KEYCAP in cluster and cluster[0] in "0123456789#*":
        return True
    # A pictograph only becomes an emoji sequence with an emoji-only companion; a bare
    # "\u00a9" followed by an accent stays text and is weighed code point by code point.
    has_emoji_part = any(
        ch in (_VS16, _ZWJ_CHAR) or _is_emoji_modifier(ord(ch)) or 0xE0020 <= ord(ch) <= 0xE007F
        for ch in cluster
    )
    return has_emoji_part and any(_is_pictographic(ord(ch)) for ch in cluster)


def _x_weigh_plain(text: str) -> int:
    if text.isascii():  # fast path: every ASCII code point weighs 1
        return len(text)
    total = 0
    for cluster in iter_graphemes(text):
        if _is_emoji_sequence(cluster):
            total += 2
        else:
            total += sum(_x_code_point_weight(ch) for ch in cluster)
    return total


def x_weighted_length(text: str) -> int:
    """twitter-text v3 weighted length (NFC, URLs 23, emoji sequences 2, CJK 2)."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    pos = 0
    for start, end in url_spans(text):
        total += _x_weigh_plain(text[pos:start]) + URL_COST
        pos = end
    return total + _x_weigh_plain(text[pos:])


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
