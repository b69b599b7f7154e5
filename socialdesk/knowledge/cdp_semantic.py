"""`socialdesk eval kb --semantic`: the embedding signal measured on the IBM files.

The same encoder and floor as the search (`ranking.HybridWeights`): each candidate's
semantic score is the closest cosine between the question and what the desk knows of
the document, its URL's words and the past questions it answered (a conversation never
sees itself when the index is the test file), the part above the floor scaled so the
best candidate gets 1, then added with a weight to the text-only and full rankings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from socialdesk.knowledge.cdp import Conversation, Documents, question_signals
from socialdesk.knowledge.ranking import HybridWeights, Scores, Signals, Weights, combine, measure
from socialdesk.knowledge.text import url_words

TEXT_ONLY = Weights(text=1.0, neighbours=0.0, popularity=0.0)


@dataclass(frozen=True)
class SemanticEvaluation:
    text: Scores  # BM25 alone, as the knowledge search with the encoder off
    text_semantic: Scores  # BM25 + embeddings, as the search with it on
    ranked: Scores  # the suggestions' three signals
    ranked_semantic: Scores  # the same plus embeddings
    semantic: Scores  # embeddings alone


def _closest(
    conversations: Sequence[Conversation],
    index: Sequence[Conversation],
    documents: Documents,
    found: Sequence[Signals],
    embed: Callable[[Sequence[str]], np.ndarray],
    leave_one_out: bool,
) -> list[dict[str, float]]:
    asked = embed([c.question for c in conversations])
    past = asked if leave_one_out else embed([c.question for c in index])
    wanted = sorted({key for f in found for key in f.candidates if key in documents.urls})
    doc_vectors = embed([" ".join(url_words(documents.urls[key])) or key for key in wanted])
    doc_row = {key: i for i, key in enumerate(wanted)}
    out = []
    for i, (conversation, signals) in enumerate(zip(conversations, found, strict=True)):
        query = asked[i]
        best: dict[str, float] = {}
        for key in signals.candidates:
            if key in doc_row:
                best[key] = float(doc_vectors[doc_row[key]] @ query)
        same = [
            j
            for j, other in enumerate(index)
            if other.brand == conversation.brand and not (leave_one_out and j == i)
        ]
        if same:
            similarity = past[same] @ query
            for j, value in zip(same, similarity, strict=True):
                key = index[j].doc_id
                if key in signals.candidates and value > best.get(key, -1.0):
                    best[key] = float(value)
        out.append(best)
    return out


def _position(
    conversation: Conversation,
    signals: Signals,
    cosines: dict[str, float],
    weights: Weights,
    semantic_weight: float,
    floor: float,
) -> int | None:
    base = {r.key: r.score for r in combine(signals, weights)}
    above = {key: max(0.0, cosines.get(key, 0.0) - floor) for key in signals.candidates}
    top = max(above.values(), default=0.0)
    total = {
        key: base[key] + (semantic_weight * above[key] / top if top > 0 else 0.0)
        for key in signals.candidates
    }
    order = {key: i for i, key in enumerate(signals.candidates)}
    ranked = sorted(signals.candidates, key=lambda key: (-total[key], order[key]))
    return ranked.index(conversation.doc_id) + 1 if conversation.doc_id in order else None


def evaluate_semantic(
    index: Sequence[Conversation],
    test: Sequence[Conversation],
    documents: Documents,
    weights: Weights,
    leave_one_out: bool,
    embed: Callable[[Sequence[str]], np.ndarray],
    semantic_weight: float = 1.0,
) -> SemanticEvaluation:
    floor = HybridWeights().floor
    pairs = question_signals(index, test, documents, weights.k, leave_one_out)
    found = [signals for _, signals in pairs]
    cosines = _closest(test, index, documents, found, embed, leave_one_out)
    none = Weights(text=0.0, neighbours=0.0, popularity=0.0)

    def scores(w: Weights, semantic: float) -> Scores:
        return measure(
            [
                _position(c, f, cos, w, semantic, floor)
                for c, f, cos in zip(test, found, cosines, strict=True)
            ]
        )

    return SemanticEvaluation(
        text=scores(TEXT_ONLY, 0.0),
        text_semantic=scores(TEXT_ONLY, semantic_weight),
        ranked=scores(weights, 0.0),
        ranked_semantic=scores(weights, semantic_weight),
        semantic=scores(none, 1.0),
    )
