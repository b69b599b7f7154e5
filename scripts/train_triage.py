"""Train the inline triage pass's sentiment weights (build time, not start-up).

    .venv/bin/python scripts/train_triage.py [--data ../shared/data] [--heldout-csv PATH]

Labelled data: the Apple Twitter sentiment set (1 negative, 3 neutral, 5 positive; 0
"not relevant" is dropped). One post in five, chosen by a hash of its cleaned text (so
retweets of one text fall on the same side), is held out and never trained on; the
script prints its figures and can write it as a ``text,label`` CSV for
``socialdesk eval triage``. Unlabelled customer tweets (twcs, inbound only) are then
self-labelled where the first model is confident and both are trained on together, so the
weights also know how customers of airlines, telecoms and shops write. Deterministic:
same data, same weights.
"""

from __future__ import annotations

import argparse
import csv
import zlib
from pathlib import Path

import numpy as np

from socialdesk.triage.sentiment import (
    DIMENSIONS,
    LABELS,
    WEIGHTS_PATH,
    LinearModel,
    vader_features,
)
from socialdesk.triage.text import clean, hashed_features

APPLE_LABELS = {"1": "negative", "3": "neutral", "5": "positive"}
HELD_OUT_SHARE = 5  # one in five
SELF_TRAINING_CONFIDENCE = 0.8


def is_held_out(text: str) -> bool:
    return zlib.crc32(clean(text).lower().encode()) % HELD_OUT_SHARE == 0


def apple_rows(data: Path) -> list[tuple[str, str]]:
    path = data / "apple_sentiment" / "Apple-Twitter-Sentiment-DFE.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            (row["text"], APPLE_LABELS[row["sentiment"]])
            for row in csv.DictReader(handle)
            if row["sentiment"] in APPLE_LABELS
        ]


def customer_tweets(data: Path) -> list[str]:
    texts: list[str] = []
    for name in ("twcs_head_5000.csv", "twcs_random_5000.csv"):
        with (data / "twcs" / name).open(newline="", encoding="utf-8") as handle:
            texts += [row["text"] for row in csv.DictReader(handle) if row["inbound"] == "True"]
    return texts


class Matrix:
    """The hashed features of many posts as flat index/value arrays (a CSR without scipy)."""

    def __init__(self, texts: list[str]) -> None:
        cleaned = [clean(text) for text in texts]
        features = [hashed_features(text, DIMENSIONS) for text in cleaned]
        self.size = len(texts)
        self.rows = np.concatenate(
            [
                np.full(len(indices), row, dtype=np.int64)
                for row, (indices, _) in enumerate(features)
            ]
        )
        self.indices = np.concatenate([indices for indices, _ in features])
        self.values = np.concatenate([values for _, values in features])
        self.vader = np.stack([vader_features(text) for text in cleaned])

    def logits(self, weights: np.ndarray, vader_weights: np.ndarray, bias: np.ndarray):
        result = np.zeros((self.size, len(LABELS)))
        np.add.at(result, self.rows, self.values[:, None] * weights[self.indices])
        return result + self.vader @ vader_weights + bias


def softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def train(matrix: Matrix, targets: np.ndarray, sample_weight: np.ndarray) -> LinearModel:
    """Multinomial logistic regression, L2, full-batch Adam: a few seconds on 2 cores."""
    classes = len(LABELS)
    weights = np.zeros((DIMENSIONS, classes))
    vader_weights = np.zeros((4, classes))
    bias = np.zeros(classes)
    one_hot = np.eye(classes)[targets]
    # Rarer classes weigh more, so "positive" (11% of Apple) is not drowned by "neutral".
    class_weight = len(targets) / (classes * np.bincount(targets, minlength=classes))
    weight = sample_weight * class_weight[targets]
    params = [weights, vader_weights, bias]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    l2, rate = 1e-4, 0.05
    for step in range(1, 301):
        error = (softmax(matrix.logits(*params)) - one_hot) * weight[:, None] / weight.sum()
        grad_weights = np.zeros_like(weights)
        np.add.at(grad_weights, matrix.indices, matrix.values[:, None] * error[matrix.rows])
        grads = [
            grad_weights + l2 * weights,
            matrix.vader.T @ error + l2 * vader_weights,
            error.sum(axis=0),
        ]
        for param, grad, moment, square in zip(params, grads, moments, squares, strict=True):
            moment *= 0.9
            moment += 0.1 * grad
            square *= 0.999
            square += 0.001 * grad**2
            param -= (
                rate * (moment / (1 - 0.9**step)) / (np.sqrt(square / (1 - 0.999**step)) + 1e-8)
            )
    return LinearModel(ngram_weights=weights, vader_weights=vader_weights, bias=bias)


def accuracy_and_macro_f1(truth: list[int], predicted: list[int]) -> tuple[float, float]:
    truth_array, predicted_array = np.array(truth), np.array(predicted)
    f1s = []
    for label in range(len(LABELS)):
        tp = np.sum((predicted_array == label) & (truth_array == label))
        fp = np.sum((predicted_array == label) & (truth_array != label))
        fn = np.sum((predicted_array != label) & (truth_array == label))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(truth_array == predicted_array)), float(np.mean(f1s))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    parser.add_argument("--heldout-csv", type=Path, default=None)
    parser.add_argument("--no-self-training", action="store_true")
    args = parser.parse_args()

    labelled = apple_rows(args.data)
    train_rows = [(t, label) for t, label in labelled if not is_held_out(t)]
    held_out = [(t, label) for t, label in labelled if is_held_out(t)]
    print(f"Apple: {len(train_rows)} training, {len(held_out)} held out")
    if args.heldout_csv:
        with args.heldout_csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(held_out)

    texts = [t for t, _ in train_rows]
    targets = np.array([LABELS.index(label) for _, label in train_rows])
    model = train(Matrix(texts), targets, np.ones(len(texts)))

    if not args.no_self_training:
        customers = customer_tweets(args.data)
        customer_matrix = Matrix(customers)
        probabilities = softmax(
            customer_matrix.logits(model.ngram_weights, model.vader_weights, model.bias)
        )
        confident = probabilities.max(axis=1) >= SELF_TRAINING_CONFIDENCE
        chosen = [c for c, keep in zip(customers, confident, strict=True) if keep]
        pseudo = probabilities.argmax(axis=1)[confident]
        print(f"twcs: {len(chosen)} of {len(customers)} customer tweets self-labelled")
        print(
            "  by class:",
            dict(zip(LABELS, np.bincount(pseudo, minlength=3).tolist(), strict=False)),
        )
        weights = np.concatenate([np.ones(len(texts)), np.full(len(chosen), 0.5)])
        model = train(Matrix(texts + chosen), np.concatenate([targets, pseudo]), weights)

    held_matrix = Matrix([t for t, _ in held_out])
    predicted = softmax(
        held_matrix.logits(model.ngram_weights, model.vader_weights, model.bias)
    ).argmax(axis=1)
    truth = [LABELS.index(label) for _, label in held_out]
    accuracy, macro_f1 = accuracy_and_macro_f1(truth, predicted.tolist())
    print(f"held out: accuracy {accuracy:.3f}, macro-F1 {macro_f1:.3f}")
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
