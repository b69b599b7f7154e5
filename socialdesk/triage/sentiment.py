"""Sentiment: VADER's scores plus a linear model on hashed n-grams, numpy only.

The weights are trained at build time by ``scripts/train_triage.py`` and shipped in
``sentiment_weights.npz`` next to this module; nothing is trained or downloaded at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from socialdesk.triage.text import hashed_features

LABELS = ("negative", "neutral", "positive")
DIMENSIONS = 2**15
WEIGHTS_PATH = Path(__file__).with_name("sentiment_weights.npz")


@dataclass(frozen=True, slots=True)
class SentimentScore:
    label: str
    # -1 (surely negative) .. +1 (surely positive): P(positive) - P(negative).
    score: float
    probabilities: tuple[float, float, float]
    vader_compound: float


@cache
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def vader_features(cleaned: str) -> np.ndarray:
    """VADER's neg/neu/pos/compound for text already stripped of handles and links."""
    scores = _vader().polarity_scores(cleaned)
    return np.array(
        [scores["neg"], scores["neu"], scores["pos"], scores["compound"]], dtype=np.float64
    )


def vader_label(compound: float) -> str:
    """VADER's own verdict with its documented thresholds: the baseline we measure against."""
    if compound <= -0.05:
        return "negative"
    if compound >= 0.05:
        return "positive"
    return "neutral"


@dataclass(frozen=True, slots=True)
class LinearModel:
    ngram_weights: np.ndarray  # (DIMENSIONS, 3)
    vader_weights: np.ndarray  # (4, 3)
    bias: np.ndarray  # (3,)

    def logits(self, cleaned: str, vader: np.ndarray) -> np.ndarray:
        indices, values = hashed_features(cleaned, DIMENSIONS)
        result: np.ndarray = self.bias + vader @ self.vader_weights
        if len(indices):
            result = result + values @ self.ngram_weights[indices]
        return result

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            ngram_weights=self.ngram_weights.astype(np.float16),
            vader_weights=self.vader_weights,
            bias=self.bias,
        )


def load_model(path: Path = WEIGHTS_PATH) -> LinearModel:
    with np.load(path) as data:
        return LinearModel(
            ngram_weights=data["ngram_weights"].astype(np.float32),
            vader_weights=data["vader_weights"].astype(np.float64),
            bias=data["bias"].astype(np.float64),
        )


@cache
def shipped_model() -> LinearModel:
    return load_model()


def score_sentiment(cleaned: str, model: LinearModel | None = None) -> SentimentScore:
    vader = vader_features(cleaned)
    logits = (model or shipped_model()).logits(cleaned, vader)
    exp = np.exp(logits - logits.max())
    probabilities = exp / exp.sum()
    negative, neutral, positive = (float(p) for p in probabilities)
    return SentimentScore(
        label=LABELS[int(probabilities.argmax())],
        score=round(positive - negative, 4),
        probabilities=(negative, neutral, positive),
        vader_compound=float(vader[3]),
    )
