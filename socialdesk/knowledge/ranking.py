"""Ranking answers for a customer's words: pure functions, no database.

Three signals, each scaled to 0..1 within one question's candidates, then summed with
weights (`Weights`):

* **text**: BM25 (the `bm25s` library) of the question against each candidate's own
  words (an article's title and body, a help link's path) expanded with the past
  questions that were answered with it: a desk learns an article's vocabulary from the
  customers who needed it;
* **neighbours**: the past questions most like this one (BM25 again, one past question
  per document) vote for the answer they got, each vote its similarity;
* **popularity**: how often the candidate was the answer (log-scaled), the prior that
  wins when the words say little.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import bm25s


@dataclass(frozen=True)
class Weights:
    """The defaults were tuned on one half of the IBM dev file (scripts/tune_kb.py)."""

    text: float = 1.0
    neighbours: float = 0.25
    popularity: float = 1.0
    # How many of the nearest past questions vote.
    k: int = 3


POPULARITY_ONLY = Weights(text=0.0, neighbours=0.0, popularity=1.0)


@dataclass(frozen=True)
class Example:
    """A past question (its words) and the candidate it was answered with."""

    answer: str
    words: tuple[str, ...]
    # The words of the reply that gave this answer (it describes the answer too).
    reply: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ranked:
    key: str
    score: float


class Bm25:
    """A BM25 index (the `bm25s` library) of documents given as lists of words."""

    def __init__(self, corpus: Sequence[Sequence[str]]) -> None:
        self.size = len(corpus)
        self._retriever: bm25s.BM25 | None = None
        if corpus:
            # bm25s cannot index an empty vocabulary; a placeholder matches no query word.
            self._retriever = bm25s.BM25()
            self._retriever.index([list(doc) or ["\x00"] for doc in corpus], show_progress=False)

    def scores(self, query: Sequence[str]) -> list[float]:
        if self._retriever is None:
            return []
        vocabulary = self._retriever.vocab_dict
        known = [word for word in query if word in vocabulary]
        if not known:
            return [0.0] * self.size
        return [float(s) for s in self._retriever.get_scores(known)]


def bm25_scores(corpus: Sequence[Sequence[str]], query: Sequence[str]) -> list[float]:
    """BM25 score of `query` against each document of `corpus` (lists of words)."""
    if not query:
        return [0.0] * len(corpus)
    return Bm25(corpus).scores(query)


def scaled(scores: Mapping[str, float]) -> dict[str, float]:
    """Scores divided by the largest, so each signal weighs the same at its best."""
    top = max(scores.values(), default=0.0)
    if top <= 0:
        return dict.fromkeys(scores, 0.0)
    return {key: value / top for key, value in scores.items()}


def popularity(examples: Sequence[Example], candidates: Sequence[str]) -> dict[str, float]:
    counts = Counter(example.answer for example in examples)
    return {key: math.log1p(counts.get(key, 0)) for key in candidates}


@dataclass(frozen=True)
class Signals:
    """Each signal scaled to 0..1 over one question's candidates."""

    candidates: tuple[str, ...]
    text: dict[str, float]
    neighbours: dict[str, float]
    popularity: dict[str, float]


class Prepared:
    """The indexes for one set of candidates and past questions, built once and asked
    any number of questions (a brand's documents and conversations, say)."""

    def __init__(
        self,
        candidates: Sequence[str],
        own_words: Mapping[str, Sequence[str]],
        examples: Sequence[Example],
        with_text: bool = True,
    ) -> None:
        self.candidates = tuple(dict.fromkeys(candidates))
        wanted = set(self.candidates)
        self.pool = [example for example in examples if example.answer in wanted]
        self.popularity = scaled(popularity(examples, self.candidates))
        self.with_text = with_text
        if with_text:
            expanded: dict[str, list[str]] = {
                key: list(own_words.get(key, ())) for key in self.candidates
            }
            for example in self.pool:
                expanded[example.answer].extend(example.words)
                expanded[example.answer].extend(example.reply)
            self.documents = Bm25([expanded[key] for key in self.candidates])
            self.questions = Bm25([example.words for example in self.pool])

    def signals(self, query: Sequence[str], k: int = Weights.k) -> Signals:
        none = dict.fromkeys(self.candidates, 0.0)
        if not self.with_text or not query:
            return Signals(self.candidates, none, dict(none), self.popularity)
        text = dict(zip(self.candidates, self.documents.scores(query), strict=True))
        similarity = self.questions.scores(query)
        votes: dict[str, float] = defaultdict(float)
        for i in sorted(range(len(self.pool)), key=lambda i: -similarity[i])[:k]:
            if similarity[i] > 0:
                votes[self.pool[i].answer] += similarity[i]
        neighbours = {key: votes.get(key, 0.0) for key in self.candidates}
        return Signals(self.candidates, scaled(text), scaled(neighbours), self.popularity)


def signals(
    query: Sequence[str],
    candidates: Sequence[str],
    own_words: Mapping[str, Sequence[str]],
    examples: Sequence[Example],
    k: int = Weights.k,
    with_text: bool = True,
) -> Signals:
    return Prepared(candidates, own_words, examples, with_text).signals(query, k)


def combine(found: Signals, weights: Weights) -> list[Ranked]:
    """Candidates best first; equal scores keep the order of the candidates."""
    total = {
        key: weights.text * found.text[key]
        + weights.neighbours * found.neighbours[key]
        + weights.popularity * found.popularity[key]
        for key in found.candidates
    }
    order = {key: i for i, key in enumerate(found.candidates)}
    best = sorted(found.candidates, key=lambda key: (-total[key], order[key]))
    return [Ranked(key, round(total[key], 6)) for key in best]


def rank(
    query: Sequence[str],
    candidates: Sequence[str],
    own_words: Mapping[str, Sequence[str]],
    examples: Sequence[Example],
    weights: Weights = Weights(),
) -> list[Ranked]:
    """Candidates best first by the weighted sum of the three signals."""
    with_text = bool(weights.text or weights.neighbours)
    found = signals(query, candidates, own_words, examples, weights.k, with_text)
    return combine(found, weights)


@dataclass(frozen=True)
class HybridWeights:
    """Full text and embedding similarity, summed (the search and the composer's articles).

    Cosines of multilingual-e5-small sit in a narrow band (0.75-0.9 for short support
    texts, related or not), so only the part above `floor` counts, scaled so the closest
    candidate gets 1; an article sharing no word with the query is found only from
    `minimum` on (the right article for "my luggage never arrived" scored 0.84, the
    unrelated ones 0.76-0.81, a bare "hello" 0.82 at best).
    """

    text: float = 0.5
    semantic: float = 0.5
    floor: float = 0.80
    minimum: float = 0.83


@dataclass(frozen=True)
class HybridRanked:
    key: str
    score: float
    text_score: float  # BM25 scaled to 0..1 over the candidates
    semantic_score: float | None  # the cosine; None without embeddings


def hybrid(
    candidates: Sequence[str],
    text: Mapping[str, float],
    matched: set[str],
    cosines: Mapping[str, float] | None,
    weights: HybridWeights = HybridWeights(),
) -> list[HybridRanked]:
    """Found candidates best first: those sharing a word with the query (`matched`, with
    a text score) and, with `cosines`, those close enough in meaning. Without `cosines`
    (encoder off) the score is the text score alone, as before there were embeddings."""
    order = {key: i for i, key in enumerate(candidates)}
    by_text = {key for key in candidates if key in matched and text.get(key, 0.0) > 0}
    if cosines is None:
        found = sorted(by_text, key=lambda key: (-text[key], order[key]))
        return [HybridRanked(key, round(text[key], 6), round(text[key], 6), None) for key in found]
    above = {key: max(0.0, cosines.get(key, 0.0) - weights.floor) for key in candidates}
    semantic = scaled(above) if above else {}
    close = {key for key in candidates if cosines.get(key, 0.0) >= weights.minimum}
    total = {
        key: weights.text * (text.get(key, 0.0) if key in by_text else 0.0)
        + weights.semantic * semantic.get(key, 0.0)
        for key in by_text | close
    }
    found = sorted(total, key=lambda key: (-total[key], order[key]))
    return [
        HybridRanked(
            key,
            round(total[key], 6),
            round(text.get(key, 0.0) if key in by_text else 0.0, 6),
            round(cosines[key], 4) if key in cosines else None,
        )
        for key in found
    ]


@dataclass(frozen=True)
class Scores:
    """Recall at 1 and 5 and mean reciprocal rank over a set of questions."""

    recall_at_1: float
    recall_at_5: float
    mrr: float
    questions: int


def measure(positions: Sequence[int | None]) -> Scores:
    """Scores from the 1-based position of each question's right answer (None: absent)."""
    n = len(positions)
    if n == 0:
        return Scores(0.0, 0.0, 0.0, 0)
    hits1 = sum(1 for p in positions if p is not None and p <= 1)
    hits5 = sum(1 for p in positions if p is not None and p <= 5)
    mrr = sum(1.0 / p for p in positions if p is not None)
    return Scores(hits1 / n, hits5 / n, mrr / n, n)
