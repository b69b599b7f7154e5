"""Tune the knowledge ranking's weights on one half of a labelled file, report the other.

    .venv/bin/python scripts/tune_kb.py ../shared/data/ibm_cdp/dev.json

The half it tunes on is measured leave-one-out within itself; the held-out half is
then ranked with the tuned half as the index, so none of its answers chose the weights.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from socialdesk.knowledge.cdp import (
    evaluate,
    load_conversations,
    load_documents,
    position,
    question_signals,
    split,
)
from socialdesk.knowledge.ranking import Weights, measure


def main(path: Path) -> None:
    conversations = load_conversations(path)
    documents = load_documents(path.parent)
    tune_at, held_at = split(conversations)
    tune = [conversations[i] for i in tune_at]
    held = [conversations[i] for i in held_at]
    grid = [0.0, 0.25, 0.5, 1.0, 2.0]
    best: tuple[float, Weights] | None = None
    for k in (3, 5, 10, 20, 40):
        found = question_signals(tune, tune, documents, k, leave_one_out=True)
        for text, neighbours, pop in itertools.product(grid, grid, grid):
            if text == neighbours == pop == 0:
                continue
            weights = Weights(text, neighbours, pop, k)
            scores = measure([position(c, f, weights) for c, f in found])
            if best is None or scores.mrr > best[0]:
                best = (scores.mrr, weights)
    assert best is not None
    print(f"tuned on {len(tune)} (leave-one-out MRR {best[0]:.3f}): {best[1]}")
    result = evaluate(tune, held, documents, best[1], leave_one_out=False)
    for name, s in (("ranked", result.ranked), ("popularity", result.popularity)):
        print(
            f"held out {len(held)}: {name:10} recall@1 {s.recall_at_1:.3f} "
            f"recall@5 {s.recall_at_5:.3f} MRR {s.mrr:.3f}"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
