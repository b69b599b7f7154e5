"""The FAQ finder: the customers' questions grouped by what they ask (pure, no database).

Each question is normalised (no @handles, links or numbers: they differ between customers
who ask the same thing), cut into stems (`text.py`) and their two-word runs, weighted by
TF-IDF and scaled to unit length. Similar questions are found with an inverted index
(one `numpy.bincount` per question over the postings of its terms, so 10,000 short
questions cost about a second, never a 10,000 by 10,000 matrix), then grouped greedily:
the question with the most neighbours above the threshold seeds a cluster with its
neighbours not yet taken, and so on. Singletons are not frequent questions and are left
out. Each cluster gets its volume, a label (its heaviest terms, as the customers wrote
them), the questions nearest its centre as examples, and the article or canned answer
whose words are closest to its centre, if close enough to say it is covered.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from socialdesk.knowledge.text import surface_words

# Questions beyond this many (the caller passes the newest first) are not clustered:
# it keeps a request within a couple of seconds on a busy desk.
MAX_QUESTIONS = 10_000
SIMILARITY = 0.4  # two questions at or above this cosine ask the same thing
COVERED = 0.2  # a cluster's centre this close to an article or canned answer is covered
MIN_VOLUME = 2
# A term in more than this share of the questions says nothing about any of them.
MAX_DOCUMENT_SHARE = 0.5

_URL = re.compile(r"\b(?:https?://|www\.)\S+|\b\S+\.(?:com|org|net|co|io|ly)/\S*", re.IGNORECASE)
_HANDLE = re.compile(r"(?<!\w)@\w+")
_NUMBER = re.compile(r"[#$€£]?\d[\d.,:/-]*")
_SPACE = re.compile(r"\s+")
# Words every question has, whatever it asks (stems of `text.words`).
_QUESTION_WORDS = frozenset(
    {
        "how",
        "what",
        "whi",
        "why",
        "when",
        "where",
        "which",
        "who",
        "would",
        "could",
        "should",
        "need",
        "want",
        "know",
        "tell",
        "help",
        "thank",
        "thanks",
        "anyon",
        "someon",
        "still",
    }
)


@dataclass(frozen=True)
class Question:
    key: int  # the message's id
    text: str
    ticket_id: int | None = None


@dataclass(frozen=True)
class Reference:
    """Something the team already has that may answer a cluster."""

    kind: str  # "article" or "canned"
    key: int
    title: str
    text: str


@dataclass(frozen=True)
class Coverage:
    kind: str
    key: int
    title: str
    similarity: float


@dataclass(frozen=True)
class Cluster:
    label: str
    terms: tuple[str, ...]
    volume: int
    members: tuple[int, ...]  # question keys, the most typical first
    tickets: tuple[int, ...]  # their tickets, in the same order, each once
    examples: tuple[str, ...]
    covered_by: Coverage | None


def normalise(text: str) -> str:
    """The question without what differs between customers asking the same thing."""
    text = _URL.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def terms(text: str) -> tuple[list[str], dict[str, str]]:
    """Stems and two-stem runs of the normalised text, and the word each stem came from."""
    pairs = [(s, w) for s, w in surface_words(normalise(text)) if s not in _QUESTION_WORDS]
    stems = [stem for stem, _ in pairs]
    found = stems + [f"{a} {b}" for a, b in itertools.pairwise(stems)]
    return found, {stem: word for stem, word in pairs}


class Vectors:
    """TF-IDF (sublinear term frequency, smoothed IDF), each row scaled to unit length,
    held as an inverted index: for each term, the rows that have it and their weights."""

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        share = Counter(term for doc in documents for term in set(doc))
        n = max(len(documents), 1)
        ceiling = max(2, int(MAX_DOCUMENT_SHARE * n)) if n >= 20 else n
        self.terms = sorted(t for t, c in share.items() if c <= ceiling)
        self.vocabulary = {t: i for i, t in enumerate(self.terms)}
        self.idf = np.zeros(len(self.vocabulary), dtype=np.float64)
        for term, index in self.vocabulary.items():
            self.idf[index] = math.log((1 + n) / (1 + share[term])) + 1.0
        self.rows = [self.vector(doc) for doc in documents]
        self.size = len(self.rows)
        columns: list[list[tuple[int, float]]] = [[] for _ in self.vocabulary]
        for row, (indices, weights) in enumerate(self.rows):
            for index, weight in zip(indices.tolist(), weights.tolist(), strict=True):
                columns[index].append((row, weight))
        self.postings = [
            (np.array([r for r, _ in c], dtype=np.int64), np.array([w for _, w in c]))
            for c in columns
        ]

    def vector(self, doc: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        counts = Counter(t for t in doc if t in self.vocabulary)
        indices = np.array([self.vocabulary[t] for t in counts], dtype=np.int64)
        weights = np.array([1.0 + math.log(c) for c in counts.values()]) * self.idf[indices]
        norm = math.sqrt(float(weights @ weights))
        return indices, (weights / norm if norm else weights)

    def similarities(
        self, indices: npt.NDArray[np.int64], weights: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """Cosine of a unit vector against every row."""
        if not len(indices):
            return np.zeros(self.size)
        rows = np.concatenate([self.postings[i][0] for i in indices.tolist()])
        products = np.concatenate(
            [
                self.postings[i][1] * w
                for i, w in zip(indices.tolist(), weights.tolist(), strict=True)
            ]
        )
        return np.bincount(rows, weights=products, minlength=self.size).astype(np.float64)

    def centre(self, rows: Sequence[int]) -> npt.NDArray[np.float64]:
        """The unit-length sum of some rows, as a dense vector."""
        out = np.zeros(len(self.vocabulary))
        if rows:
            np.add.at(
                out,
                np.concatenate([self.rows[r][0] for r in rows]),
                np.concatenate([self.rows[r][1] for r in rows]),
            )
        norm = math.sqrt(float(out @ out))
        return out / norm if norm else out

    def cosine(self, row: int, dense: npt.NDArray[np.float64]) -> float:
        indices, weights = self.rows[row]
        return float(dense[indices] @ weights) if len(indices) else 0.0


def _greedy(vectors: Vectors, threshold: float) -> list[list[int]]:
    neighbours: list[npt.NDArray[np.int64]] = []
    for indices, weights in vectors.rows:
        scores = vectors.similarities(indices, weights)
        neighbours.append(np.flatnonzero(scores >= threshold))
    taken = np.zeros(vectors.size, dtype=bool)
    groups = []
    # Densest first; ties by position, so the newest questions seed first.
    for seed in sorted(range(vectors.size), key=lambda i: -len(neighbours[i])):
        if taken[seed] or not len(vectors.rows[seed][0]):
            continue
        free = neighbours[seed][~taken[neighbours[seed]]]
        members = [seed] + [int(j) for j in free if j != seed]
        taken[members] = True
        groups.append(members)
    return groups


def _label(
    centre: npt.NDArray[np.float64], vectors: Vectors, words: dict[str, str]
) -> tuple[str, ...]:
    """The three heaviest terms of a cluster's centre, none repeating another's stems."""
    chosen: list[str] = []
    used: set[str] = set()
    for index in np.argsort(-centre)[:24].tolist():
        if centre[index] <= 0 or len(chosen) >= 3:
            break
        parts = vectors.terms[index].split()
        if used & set(parts):
            continue
        used.update(parts)
        chosen.append(" ".join(words.get(p, p) for p in parts))
    return tuple(chosen)


def find_clusters(
    questions: Sequence[Question],
    references: Sequence[Reference] = (),
    *,
    threshold: float = SIMILARITY,
    covered: float = COVERED,
    min_volume: int = MIN_VOLUME,
    limit: int = 20,
) -> list[Cluster]:
    """The most asked questions, largest cluster first (at most `MAX_QUESTIONS` read)."""
    questions = list(questions[:MAX_QUESTIONS])
    analysed = [terms(q.text) for q in questions]
    vectors = Vectors([found for found, _ in analysed])
    surfaces: Counter[tuple[str, str]] = Counter(
        (stem, word) for _, words in analysed for stem, word in words.items()
    )
    spelled: dict[str, str] = {}
    for (stem, word), _count in surfaces.most_common():
        spelled.setdefault(stem, word)
    known = [(r, vectors.vector(terms(f"{r.title} {r.title} {r.text}")[0])) for r in references]

    clusters = []
    groups = [g for g in _greedy(vectors, threshold) if len(g) >= min_volume]
    groups.sort(key=lambda g: (-len(g), g[0]))
    for group in groups[:limit]:
        centre = vectors.centre(group)
        typical = sorted(group, key=lambda i: -vectors.cosine(i, centre))
        examples: list[str] = []
        for i in typical:
            text = questions[i].text.strip()
            if text not in examples:
                examples.append(text)
            if len(examples) == 3:
                break
        tickets = list(
            dict.fromkeys(t for i in typical if (t := questions[i].ticket_id) is not None)
        )
        label_terms = _label(centre, vectors, spelled)
        clusters.append(
            Cluster(
                label=", ".join(label_terms),
                terms=label_terms,
                volume=len(group),
                members=tuple(questions[i].key for i in typical),
                tickets=tuple(tickets),
                examples=tuple(examples),
                covered_by=_coverage(centre, known, covered),
            )
        )
    return clusters


def _coverage(
    centre: npt.NDArray[np.float64],
    known: Sequence[tuple[Reference, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]],
    covered: float,
) -> Coverage | None:
    best: Coverage | None = None
    for reference, (indices, weights) in known:
        similarity = float(centre[indices] @ weights) if len(indices) else 0.0
        if similarity >= covered and (best is None or similarity > best.similarity):
            best = Coverage(reference.kind, reference.key, reference.title, round(similarity, 4))
    return best


def best_answers(answers: Sequence[str], limit: int = 3) -> list[str]:
    """The team's replies that say what most of the others say, each once: the replies
    nearest the centre of all of them come first."""
    distinct = list(dict.fromkeys(a.strip() for a in answers if a.strip()))
    if len(distinct) <= 1:
        return distinct[:limit]
    stripped = [a.strip() for a in answers if a.strip()]
    vectors = Vectors([terms(a)[0] for a in stripped])
    centre = vectors.centre(range(vectors.size))
    score = {text: vectors.cosine(i, centre) for i, text in enumerate(stripped)}
    return sorted(distinct, key=lambda text: -score[text])[:limit]


def title_from(label_terms: Sequence[str]) -> str:
    """An article title from a cluster's label: "Card arrival, track"."""
    text = ", ".join(label_terms)
    return text[:1].upper() + text[1:] if text else "Frequent question"
