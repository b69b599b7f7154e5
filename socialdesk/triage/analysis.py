"""The inline triage of one post: pure, numpy only, well under a millisecond."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import py3langid
from py3langid.langid import LanguageIdentifier

from socialdesk.triage.rules import DEFAULT_TOPICS, URGENT_WORDS, detect_intent, detect_topic
from socialdesk.triage.sentiment import score_sentiment
from socialdesk.triage.text import clean, words

# Below this many letters a language guess is noise ("ok", "??"): no language then.
_MIN_LETTERS_FOR_LANGUAGE = 10
# py3langid's normalised probability: short English posts score 0.45-0.6.
_LANGUAGE_CONFIDENCE = 0.45


@dataclass(frozen=True, slots=True)
class Signal:
    """One reason for a post's urgency and the points it added."""

    name: str
    points: int
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "points": self.points, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Context:
    """What the pipeline knows beyond the text. Each field is optional."""

    followers: int | None = None
    # Customer messages on this ticket before this one (repeat contact).
    previous_customer_messages: int = 0
    # How long the customer had been waiting for us when this post arrived.
    waiting_minutes: float | None = None
    topics: Mapping[str, Sequence[str]] | None = None


@dataclass(frozen=True, slots=True)
class Triage:
    sentiment: str
    sentiment_score: float
    intent: str
    urgency: int
    language: str | None
    topic: str | None
    signals: tuple[Signal, ...] = field(default=())

    def signals_data(self) -> list[dict[str, Any]]:
        return [signal.as_dict() for signal in self.signals]


@cache
def _language_identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(py3langid.langid.MODEL_FILE, norm_probs=True)


def detect_language(cleaned: str) -> str | None:
    if sum(map(str.isalpha, cleaned)) < _MIN_LETTERS_FOR_LANGUAGE:
        return None
    language, probability = _language_identifier().classify(cleaned)
    return str(language) if probability >= _LANGUAGE_CONFIDENCE else None


def urgency_signals(
    lowered: str, text: str, negative_probability: float, context: Context
) -> list[Signal]:
    signals: list[Signal] = []
    if negative_probability >= 0.6:  # customers asking for help lean negative
        signals.append(
            Signal("negativity", round(30 * negative_probability), f"{negative_probability:.0%}")
        )
    for name, (points, pattern) in URGENT_WORDS.items():
        found = pattern.search(lowered)
        if found:
            signals.append(Signal(f"{name} words", points, found.group(0)))
    letters = [ch for ch in text if ch.isalpha()]
    if text.count("!") >= 2 or (
        len(letters) >= 12 and sum(ch.isupper() for ch in letters) > 0.7 * len(letters)
    ):
        signals.append(Signal("shouting", 5, "!! or capitals"))
    if context.followers and context.followers >= 1000:
        # 1k followers: 5 points, 10k: 10, 100k: 15, a million or more: 20.
        points = min(20, 5 * round(math.log10(context.followers) - 2))
        signals.append(Signal("reach", points, f"{context.followers} followers"))
    if context.previous_customer_messages >= 1:
        points = min(20, 8 * context.previous_customer_messages)
        signals.append(
            Signal("repeat contact", points, f"{context.previous_customer_messages} before")
        )
    if context.waiting_minutes is not None and context.waiting_minutes >= 30:
        points = min(20, round(context.waiting_minutes / 30) * 4)
        signals.append(Signal("waiting time", points, f"{round(context.waiting_minutes)} min"))
    return signals


def triage(text: str, context: Context | None = None) -> Triage:
    """Sentiment, intent, urgency (with its signals), language and topic of one post."""
    context = context or Context()
    cleaned = clean(text)
    lowered = cleaned.lower()
    sentiment = score_sentiment(cleaned)
    intent = detect_intent(
        lowered, sentiment.label, sentiment.probabilities[0], len(words(cleaned))
    )
    signals = urgency_signals(lowered, cleaned, sentiment.probabilities[0], context)
    if intent == "spam":
        signals = []
    urgency = max(0, min(100, sum(signal.points for signal in signals)))
    return Triage(
        sentiment=sentiment.label,
        sentiment_score=sentiment.score,
        intent=intent,
        urgency=urgency,
        language=detect_language(cleaned),
        topic=detect_topic(lowered, context.topics or DEFAULT_TOPICS),
        signals=tuple(signals),
    )
