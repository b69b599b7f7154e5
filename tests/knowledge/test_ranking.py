"""The ranking's pure parts: words, each signal, their fusion and the measures."""

from __future__ import annotations

import pytest

from socialdesk.knowledge.ranking import (
    POPULARITY_ONLY,
    Example,
    HybridWeights,
    Weights,
    hybrid,
    measure,
    rank,
)
from socialdesk.knowledge.text import url_words, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@AppleSupport my iPhone won't charge!!", ["iphon", "won", "charg"]),
        ("Refunds refunded REFUNDING", ["refund", "refund", "refund"]),
        ("the and of 2020 a", []),
        ("", []),
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://web.archive.org/web/20200304165005/https://support.apple.com/en-us/HT201276",
            ["support", "appl", "ht201276"],
        ),
        (
            "https://support.zoom.us/hc/en-us/articles/115001079746-Webinar-Templates",
            ["support", "zoom", "webinar", "templat"],
        ),
        (
            "help.dropbox.com/installs-integrations/desktop",
            ["help", "dropbox", "instal", "integr", "desktop"],
        ),
    ],
)
def test_url_words(url: str, expected: list[str]) -> None:
    assert url_words(url) == expected


OWN = {
    "reset": words("How to reset your password"),
    "refund": words("Request a refund for a purchase"),
    "charge": words("If your iPhone won't charge"),
}
PAST = [
    Example("refund", tuple(words("I want my money back for this order"))),
    Example("refund", tuple(words("charged twice, need money back"))),
    Example("refund", tuple(words("money back please, wrong item"))),
    Example("reset", tuple(words("locked out of my account, forgot the password"))),
]
CANDIDATES = ["reset", "refund", "charge"]


@pytest.mark.parametrize(
    ("question", "weights", "first"),
    [
        # the article's own words
        ("I forgot my password, how do I reset it", Weights(1, 0, 0), "reset"),
        ("my phone will not charge", Weights(1, 0, 0), "charge"),
        # past questions answered with it
        ("can I get my money back", Weights(0, 1, 0), "refund"),
        # nothing matches: the most used answer
        ("hmm", Weights(), "refund"),
        ("I forgot my password, how do I reset it", POPULARITY_ONLY, "refund"),
        # words beat popularity with the default weights
        ("locked out, forgot password", Weights(), "reset"),
    ],
)
def test_rank_first(question: str, weights: Weights, first: str) -> None:
    ranked = rank(words(question), CANDIDATES, OWN, PAST, weights)
    assert ranked[0].key == first
    assert [r.key for r in ranked] != [] and len(ranked) == 3
    assert ranked == sorted(ranked, key=lambda r: -r.score)


@pytest.mark.parametrize(
    ("candidates", "examples", "expected"),
    [
        ([], PAST, []),
        (["a", "b", "a"], [], ["a", "b"]),  # no evidence at all: the given order, once each
        (["a", "b"], [Example("b", ())], ["b", "a"]),
    ],
)
def test_rank_edges(candidates: list[str], examples: list[Example], expected: list[str]) -> None:
    assert [r.key for r in rank(words("anything"), candidates, {}, examples)] == expected


@pytest.mark.parametrize(
    ("positions", "r1", "r5", "mrr"),
    [
        ([1, 2, None, 10], 0.25, 0.5, (1 + 0.5 + 0.1) / 4),
        ([None], 0.0, 0.0, 0.0),
        ([1], 1.0, 1.0, 1.0),
        ([], 0.0, 0.0, 0.0),
    ],
)
def test_measure(positions: list[int | None], r1: float, r5: float, mrr: float) -> None:
    scores = measure(positions)
    assert (scores.recall_at_1, scores.recall_at_5) == (r1, r5)
    assert scores.mrr == pytest.approx(mrr)


def test_hybrid_adds_meaning_to_words() -> None:
    keys = ["baggage", "password", "pets"]
    text = {"baggage": 0.0, "password": 1.0, "pets": 0.0}
    cosines = {"baggage": 0.86, "password": 0.81, "pets": 0.78}
    found = hybrid(keys, text, {"password"}, cosines)
    # baggage: no shared word but close in meaning; pets: neither
    assert [r.key for r in found] == ["password", "baggage"]
    password, baggage = found
    assert password.text_score == 1.0 and password.semantic_score == 0.81
    assert baggage.text_score == 0.0 and baggage.semantic_score == 0.86
    assert baggage.score == pytest.approx(HybridWeights().semantic)
    assert password.score == pytest.approx(0.5 + 0.5 * (0.01 / 0.06), abs=1e-4)


def test_hybrid_without_embeddings_is_the_text_score() -> None:
    found = hybrid(["a", "b", "c"], {"a": 0.4, "b": 1.0, "c": 0.7}, {"a", "b"}, None)
    assert [(r.key, r.score, r.text_score, r.semantic_score) for r in found] == [
        ("b", 1.0, 1.0, None),
        ("a", 0.4, 0.4, None),
    ]
