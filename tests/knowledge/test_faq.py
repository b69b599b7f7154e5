"""The FAQ finder's clustering (pure): normalising, grouping real customer questions by
what they ask, labels, coverage by an article or canned answer, and speed."""

from __future__ import annotations

import csv
import time
from collections import Counter
from pathlib import Path

import pytest

from socialdesk.knowledge.faq import (
    MAX_QUESTIONS,
    Question,
    Reference,
    best_answers,
    find_clusters,
    normalise,
    terms,
    title_from,
)

SLICE = Path(__file__).parents[1] / "fixtures" / "faq" / "banking77_slice.csv"


def _slice() -> list[tuple[str, str]]:
    with SLICE.open(newline="", encoding="utf-8") as f:
        return [(row["text"], row["category"]) for row in csv.DictReader(f)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@AcmeHelp where is order #12345?", "where is order ?"),
        ("see https://acme.com/help/x and www.acme.com", "see and"),
        ("Charged $49.99 on 03/02 twice", "Charged on twice"),
        ("acme.co/r/abc is broken", "is broken"),
        ("  plain   text ", "plain text"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How do I change my PIN?", ["chang", "pin", "chang pin"]),
        ("@brand card 1234 not arrived", ["card", "arriv", "card arriv"]),
        ("thanks!", []),
    ],
)
def test_terms_are_stems_and_pairs(text: str, expected: list[str]) -> None:
    assert terms(text)[0] == expected


def test_real_questions_cluster_by_intent() -> None:
    rows = _slice()
    questions = [Question(i, text) for i, (text, _) in enumerate(rows)]
    clusters = find_clusters(questions)
    assert clusters, "no cluster found"
    volumes = [c.volume for c in clusters]
    assert volumes == sorted(volumes, reverse=True)
    assert all(c.volume >= 2 for c in clusters)
    dominant = set()
    for cluster in clusters:
        intents = Counter(rows[k][1] for k in cluster.members)
        intent, count = intents.most_common(1)[0]
        assert count / cluster.volume >= 0.8, (cluster.label, intents)
        dominant.add(intent)
        assert len(cluster.examples) == min(3, cluster.volume)
        assert cluster.label and cluster.terms
    # Four of the five intents come out as a cluster of their own.
    assert len(dominant) >= 4, [c.label for c in clusters]
    labels = " | ".join(c.label for c in clusters)
    assert "pin" in labels.lower() and "exchange" in labels.lower(), labels


@pytest.mark.parametrize(
    ("reference", "covered_intent"),
    [
        (
            Reference("article", 7, "Change your PIN", "Change the PIN at any cash machine."),
            "change_pin",
        ),
        (
            Reference("canned", 3, "Lost card", "Sorry! Freeze a lost or stolen card in the app."),
            "lost_or_stolen_card",
        ),
    ],
)
def test_a_cluster_is_covered_by_the_closest_reference(
    reference: Reference, covered_intent: str
) -> None:
    rows = _slice()
    questions = [Question(i, text) for i, (text, _) in enumerate(rows)]
    clusters = find_clusters(questions, [reference])
    covered = [c for c in clusters if c.covered_by is not None]
    assert covered, [c.label for c in clusters]
    for cluster in covered:
        assert cluster.covered_by is not None
        assert (cluster.covered_by.kind, cluster.covered_by.key) == (reference.kind, reference.key)
        assert Counter(rows[k][1] for k in cluster.members).most_common(1)[0][0] == covered_intent


def test_unrelated_reference_covers_nothing() -> None:
    questions = [Question(i, text) for i, (text, _) in enumerate(_slice())]
    opening = Reference("article", 1, "Opening hours", "We are open Monday to Friday.")
    assert all(c.covered_by is None for c in find_clusters(questions, [opening]))


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([], []),
        (["Hi!"], ["Hi!"]),
        (
            [
                "DM us your order number and we will track the parcel.",
                "Please DM us the order number so we can track it.",
                "Our opening hours are 8 to 20.",
                "Please DM us the order number so we can track it.",
            ],
            [
                "Please DM us the order number so we can track it.",
                "DM us your order number and we will track the parcel.",
            ],
        ),
    ],
)
def test_best_answers_are_the_most_typical_each_once(
    answers: list[str], expected: list[str]
) -> None:
    assert best_answers(answers, limit=2) == expected


def test_title_from_label() -> None:
    assert title_from(("change pin", "cash machine")) == "Change pin, cash machine"
    assert title_from(()) == "Frequent question"


def test_ten_thousand_questions_cluster_in_seconds() -> None:
    rows = _slice()
    # Real questions made distinct by the names and numbers customers add.
    questions = [
        Question(
            i, f"{rows[i % len(rows)][0]} @user{i} order {i} {('please', 'asap', 'now')[i % 3]}"
        )
        for i in range(MAX_QUESTIONS + 500)
    ]
    started = time.perf_counter()
    clusters = find_clusters(questions)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, elapsed  # about 1-2 s here; generous for a loaded CI machine
    assert sum(c.volume for c in clusters) <= MAX_QUESTIONS  # the rest was not read
    assert clusters[0].volume > 100
