import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk.domain.enums import Platform, Visibility
from socialdesk.domain.length_rules import (
    LengthCheck,
    allows_threading,
    check_length,
    count_length,
    grapheme_count,
    iter_graphemes,
    rule_for,
    split_into_thread,
    url_spans,
)

THUMB = "\U0001f44d"
THUMB_MEDIUM = "\U0001f44d\U0001f3fd"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 25 UTF-8 bytes
FLAG_FR = "\U0001f1eb\U0001f1f7"
FLAG_DE = "\U0001f1e9\U0001f1ea"
KEYCAP_1 = "1\ufe0f\u20e3"
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
CAFE_NFC = "caf\u00e9"
CAFE_NFD = "cafe\u0301"
CJK = "\u65e5\u672c\u8a9e"  # three ideographs
HANGUL = "\ud55c\uad6d\uc5b4"  # three precomposed syllables
HANGUL_JAMO = "\u1100\u1161\u11a8"  # one syllable spelled as L V T jamo


@pytest.mark.parametrize(
    ("text", "network", "expected"),
    [
        # The spec's worked example: 4 + 1 + 2 + 1 + 23.
        (f"caf\u00e9 {THUMB} https://example.com/very/long", Platform.X, 31),
        (THUMB, Platform.X, 2),
        (THUMB_MEDIUM, Platform.X, 2),
        (FAMILY, Platform.X, 2),
        (FLAG_FR, Platform.X, 2),
        (KEYCAP_1, Platform.X, 2),
        (SCOTLAND, Platform.X, 2),
        # twitter-text-parser weighs a bare copyright sign as an emoji; erring long is safe.
        ("\u00a9", Platform.X, 2),
        ("\u00a9\ufe0f", Platform.X, 2),  # emoji-style copyright sign is an emoji
        (CJK, Platform.X, 6),
        (HANGUL, Platform.X, 6),
        (CAFE_NFC, Platform.X, 4),
        (CAFE_NFD, Platform.X, 4),  # X normalises to NFC before counting
        ("\u201cquoted\u201d", Platform.X, 8),  # curly quotes are in a light range
        ("\u20ac5", Platform.X, 3),
        ("example.com/path/to/page", Platform.X, 23),
        ("see www.example.co.uk.", Platform.X, 4 + 23 + 1),
        ("http://x.co/abc.", Platform.X, 24),
        # A host label over 63 characters is no URL (twitter-text conformance): plain text.
        ("https://" + "a" * 300 + ".com/", Platform.X, 313),
        ("mail me@example.com", Platform.X, 19),  # e-mail addresses are not links
        ("see file.py", Platform.X, 27),  # twitter-text links a ccTLD domain ("foo.jp")
        ("bit.ly/abc", Platform.X, 23),
        ("https://localhost", Platform.X, 17),
        # Mastodon: code points; only http(s) URLs are 23; remote mentions shortened.
        (THUMB_MEDIUM, Platform.MASTODON, 2),
        (FAMILY, Platform.MASTODON, 7),
        (CAFE_NFC, Platform.MASTODON, 4),
        (CAFE_NFD, Platform.MASTODON, 5),
        ("https://example.com/" + "a" * 100, Platform.MASTODON, 23),
        ("example.com/path", Platform.MASTODON, 16),
        ("@bob@mastodon.social thanks", Platform.MASTODON, len("@bob thanks")),
        # Bluesky: grapheme clusters, URLs at full length.
        (FAMILY, Platform.BLUESKY, 1),
        (THUMB_MEDIUM, Platform.BLUESKY, 1),
        (FLAG_FR + FLAG_DE, Platform.BLUESKY, 2),
        (KEYCAP_1, Platform.BLUESKY, 1),
        (SCOTLAND, Platform.BLUESKY, 1),
        (CAFE_NFC, Platform.BLUESKY, 4),
        (CAFE_NFD, Platform.BLUESKY, 4),
        (CJK, Platform.BLUESKY, 3),
        (HANGUL, Platform.BLUESKY, 3),
        (HANGUL_JAMO, Platform.BLUESKY, 1),
        ("e\u0301\u0302", Platform.BLUESKY, 1),
        ("a\r\nb", Platform.BLUESKY, 3),
        ("https://example.com", Platform.BLUESKY, 19),
        # Messenger, Facebook and Instagram comments: code points.
        (THUMB_MEDIUM, Platform.MESSENGER, 2),
        (CJK, Platform.FACEBOOK, 3),
        (FAMILY, Platform.INSTAGRAM, 7),
        ("x" * 10, Platform.EMAIL, 10),
        ("x" * 10, Platform.WEB, 10),
    ],
)
def test_count_length(text: str, network: Platform, expected: int) -> None:
    assert count_length(text, network) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [(THUMB, 4), (CAFE_NFC, 5), (CAFE_NFD, 6), (CJK, 9), (FAMILY, 25), ("abc", 3)],
)
def test_instagram_dm_counts_utf8_bytes(text: str, expected: int) -> None:
    assert count_length(text, Platform.INSTAGRAM, visibility=Visibility.PRIVATE) == expected
    assert rule_for(Platform.INSTAGRAM, Visibility.PRIVATE).unit == "UTF-8 bytes"


@pytest.mark.parametrize(
    ("text", "clusters"),
    [
        (f"a{FAMILY}b", ["a", FAMILY, "b"]),
        (FLAG_FR * 3, [FLAG_FR] * 3),
        (FLAG_FR + "\U0001f1eb", [FLAG_FR, "\U0001f1eb"]),  # an odd regional indicator
        (f"{KEYCAP_1}{THUMB_MEDIUM}", [KEYCAP_1, THUMB_MEDIUM]),
        ("\u0915\u094d\u0937", ["\u0915\u094d\u0937"]),  # GB9c: an Indic conjunct is one
        ("x\u200d" + THUMB, ["x\u200d", THUMB]),  # ZWJ joins only after a pictograph
        ("", []),
    ],
)
def test_grapheme_segmentation(text: str, clusters: list[str]) -> None:
    assert list(iter_graphemes(text)) == clusters
    assert grapheme_count(text) == len(clusters)


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("go to https://example.com/a?b=c, then", ["https://example.com/a?b=c"]),
        ("(see https://en.wikipedia.org/wiki/Foo_(bar))", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
        ("example.com and example.org/x.", ["example.com", "example.org/x"]),
        ("user@example.com", []),
        ("readme.md or e.g. this", ["readme.md"]),  # .md is a ccTLD, as X sees it
        ("https://example.com/path", ["https://example.com/path"]),
    ],
)  # fmt: skip
def test_url_detection(text: str, urls: list[str]) -> None:
    assert [text[s:e] for s, e in url_spans(text)] == urls


# (network, visibility, text that exactly reaches the limit, one unit more)
AT_LIMIT = [
    (Platform.X, Visibility.PUBLIC, "a" * 280, "a" * 281),
    (Platform.X, Visibility.PUBLIC, CJK[0] * 140, CJK[0] * 140 + "a"),
    (Platform.X, Visibility.PUBLIC, FAMILY * 140, FAMILY * 140 + "a"),
    (Platform.X, Visibility.PUBLIC, "https://example.com/ " * 11 + "a" * 16, "https://example.com/ " * 11 + "a" * 17),  # noqa: E501
    (Platform.X, Visibility.PRIVATE, "a" * 10_000, "a" * 10_001),
    (Platform.FACEBOOK, Visibility.PUBLIC, "a" * 8000, "a" * 8001),
    (Platform.FACEBOOK, Visibility.PRIVATE, "a" * 2000, "a" * 2001),
    (Platform.MESSENGER, Visibility.PRIVATE, THUMB * 2000, THUMB * 2001),
    (Platform.INSTAGRAM, Visibility.PUBLIC, "a" * 2200, "a" * 2201),
    (Platform.INSTAGRAM, Visibility.PRIVATE, "\u00e9" * 500, "\u00e9" * 500 + "a"),
    (Platform.MASTODON, Visibility.PUBLIC, "a" * 500, "a" * 501),
    (Platform.MASTODON, Visibility.PUBLIC, "https://example.com/" + "x" * 600 + " " + "a" * 476, "https://example.com/" + "x" * 600 + " " + "a" * 477),  # noqa: E501
    (Platform.BLUESKY, Visibility.PUBLIC, "a" * 300, "a" * 301),
    (Platform.BLUESKY, Visibility.PUBLIC, CAFE_NFD * 75, CAFE_NFD * 75 + "a"),
    (Platform.BLUESKY, Visibility.PRIVATE, "a" * 1000, "a" * 1001),
]  # fmt: skip


@pytest.mark.parametrize(("network", "visibility", "at_limit", "over"), AT_LIMIT)
def test_exactly_at_limit_fits_and_one_over_does_not(
    network: Platform, visibility: Visibility, at_limit: str, over: str
) -> None:
    ok = check_length(at_limit, network, visibility=visibility)
    assert ok.fits
    assert ok.remaining == 0
    bad = check_length(over, network, visibility=visibility)
    assert not bad.fits
    assert bad.remaining is not None and bad.remaining < 0


def test_check_length_reports_unit_and_remaining() -> None:
    assert check_length(f"caf\u00e9 {THUMB}", Platform.X) == LengthCheck(
        length=7, limit=280, remaining=273, fits=True, unit="weighted characters"
    )
    assert check_length(FAMILY, Platform.BLUESKY).unit == "graphemes"
    # Bluesky's second cap: 120 families are 120 graphemes but exactly 3000 bytes.
    assert check_length(FAMILY * 120, Platform.BLUESKY).fits
    # Byte-heavy text on Bluesky is reported against the byte cap that it breaks.
    over_bytes = check_length(FAMILY * 121, Platform.BLUESKY)
    assert (over_bytes.unit, over_bytes.length, over_bytes.limit) == ("UTF-8 bytes", 3025, 3000)


@pytest.mark.parametrize("network", [Platform.EMAIL, Platform.WEB])
def test_email_and_web_have_no_limit(network: Platform) -> None:
    check = check_length("a" * 200_000, network)
    assert check == LengthCheck(
        length=200_000, limit=None, remaining=None, fits=True, unit="characters"
    )


def test_limit_override_for_larger_mastodon_instances() -> None:
    assert check_length("a" * 501, Platform.MASTODON, limit=1000).fits
    assert split_into_thread("a " * 400, Platform.MASTODON, limit=1000) == ["a " * 400]


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        (Platform.X, True),
        (Platform.MASTODON, True),
        (Platform.BLUESKY, True),
        (Platform.FACEBOOK, False),
        (Platform.MESSENGER, False),
        (Platform.INSTAGRAM, False),
        (Platform.EMAIL, False),
        (Platform.WEB, False),
    ],
)
def test_allows_threading(network: Platform, expected: bool) -> None:
    assert allows_threading(network) is expected


# --- splitting -------------------------------------------------------------------------

_SUFFIX = re.compile(r" (\d+)/(\d+)$")

LONG_ENGLISH = (
    " ".join(
        f"Step {i}: open the app, tap Settings, then Account, and check the toggle {THUMB_MEDIUM}."
        for i in range(1, 25)
    )
    + f" Details at https://example.com/help/{'x' * 60} and example.org/faq {FAMILY} {FLAG_FR}."
)
NO_PUNCTUATION = " ".join(f"word{i}" for i in range(400))
CJK_LONG = "\u4eca\u65e5\u306f\u826f\u3044\u5929\u6c17\u3067\u3059\u3002" * 80
ONE_LONG_TOKEN = "a" * 1300
VERY_LONG = " ".join(f"Sentence number {i} is here." for i in range(700))


def _strip_suffixes(parts: list[str]) -> list[str]:
    total = len(parts)
    bodies = []
    for i, part in enumerate(parts, start=1):
        m = _SUFFIX.search(part)
        assert m is not None, part
        assert (int(m.group(1)), int(m.group(2))) == (i, total)
        bodies.append(part[: m.start()])
    return bodies


@pytest.mark.parametrize("network", [Platform.X, Platform.MASTODON, Platform.BLUESKY])
@pytest.mark.parametrize(
    ("text", "joiner"),
    [
        (LONG_ENGLISH, " "),
        (NO_PUNCTUATION, " "),
        (CJK_LONG, ""),
        (ONE_LONG_TOKEN, ""),
        (VERY_LONG, " "),
    ],
    ids=["english", "no-punctuation", "cjk", "one-token", "many-parts"],
)
def test_split_parts_fit_are_numbered_and_keep_the_words(
    network: Platform, text: str, joiner: str
) -> None:
    parts = split_into_thread(text, network)
    assert len(parts) > 1
    assert all(check_length(part, network).fits for part in parts)
    bodies = _strip_suffixes(parts)
    if joiner:
        assert joiner.join(bodies).split() == text.split()
    else:
        assert joiner.join(bodies) == text
    # URLs and emoji sequences come through whole.
    for whole in (f"https://example.com/help/{'x' * 60}", "example.org/faq", FAMILY, FLAG_FR):
        assert sum(body.count(whole) for body in bodies) == text.count(whole)


@pytest.mark.parametrize("network", [Platform.X, Platform.MASTODON, Platform.BLUESKY])
def test_split_prefers_sentence_ends(network: Platform) -> None:
    text = " ".join(f"This is sentence {i}, which says something useful." for i in range(40))
    bodies = _strip_suffixes(split_into_thread(text, network))
    assert all(body.endswith(".") for body in bodies)


def test_split_numbering_grows_to_two_digits_and_still_fits() -> None:
    parts = split_into_thread(VERY_LONG, Platform.X)
    assert len(parts) >= 10
    assert parts[-1].endswith(f" {len(parts)}/{len(parts)}")
    assert all(count_length(p, Platform.X) <= 280 for p in parts)


def test_split_without_numbering() -> None:
    parts = split_into_thread(NO_PUNCTUATION, Platform.X, numbering=False)
    assert len(parts) > 1
    assert " ".join(parts).split() == NO_PUNCTUATION.split()
    assert not any(_SUFFIX.search(p) for p in parts)
    # Without the suffix each part can use the whole budget.
    assert max(count_length(p, Platform.X) for p in parts) > 276


@pytest.mark.parametrize(
    "network", [Platform.X, Platform.MASTODON, Platform.BLUESKY, Platform.MESSENGER, Platform.EMAIL]
)
def test_text_that_fits_is_returned_unchanged(network: Platform) -> None:
    text = f"  Hello {FAMILY}, see https://example.com  "
    assert split_into_thread(text, network) == [text]


@pytest.mark.parametrize(
    ("network", "visibility", "text"),
    [
        (Platform.MESSENGER, Visibility.PRIVATE, "a" * 2001),
        (Platform.FACEBOOK, Visibility.PUBLIC, "a " * 4001),
        (Platform.INSTAGRAM, Visibility.PRIVATE, "\u00e9" * 501),
    ],
)
def test_split_refuses_networks_without_threads(
    network: Platform, visibility: Visibility, text: str
) -> None:
    with pytest.raises(ValueError, match="has no threads"):
        split_into_thread(text, network, visibility=visibility)


def test_split_never_cuts_a_url_even_when_it_cannot_fit() -> None:
    text = "Look: https://example.com/" + "x" * 400
    with pytest.raises(ValueError, match="unbreakable"):
        split_into_thread(text, Platform.BLUESKY)
    # On X the same link costs 23 and goes through whole.
    assert split_into_thread(text, Platform.X) == [text]


_TOKENS = [
    "hello", "world.", CAFE_NFD, CJK, "\u3002", THUMB_MEDIUM, FAMILY, FLAG_FR, KEYCAP_1,
    "https://example.com/a/b", "example.org/x", "end!", "\n", "a" * 30, HANGUL, "(see", "it)",
]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    tokens=st.lists(
        st.tuples(st.sampled_from(_TOKENS), st.sampled_from([" ", "", "  "])), max_size=300
    ),
    network=st.sampled_from([Platform.X, Platform.MASTODON, Platform.BLUESKY]),
)
def test_split_property_every_part_fits_and_nothing_is_lost(
    tokens: list[tuple[str, str]], network: Platform
) -> None:
    text = "".join(token + space for token, space in tokens)
    parts = split_into_thread(text, network)
    assert all(check_length(part, network).fits for part in parts)
    bodies = _strip_suffixes(parts) if len(parts) > 1 else parts
    assert "".join("".join(bodies).split()) == "".join(text.split())
