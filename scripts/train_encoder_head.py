"""Train the encoder pass's sentiment head (build time, not start-up).

    .venv/bin/python scripts/train_encoder_head.py [--data ../shared/data] [--cache DIR]

Multinomial logistic regression on the multilingual-e5-small embedding of a post plus
VADER's four scores and the inline model's log-probabilities (stacked). Same data and
split as ``scripts/train_triage.py``: the Apple set's held-out fifth (crc32 of the
cleaned text) is never trained on; every other remaining Apple post is trained on, and
twcs customer tweets (every 16th inbound one, to bound the embedding time) are
self-labelled where the first head is at least 80% sure, then both are trained on.
Embeddings are cached in ``--cache`` (the slow part); the training itself is
deterministic (full-batch gradient descent from zeros). Prints the held-out figures of
the inline pass, VADER alone and the encoder head.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from train_triage import (
    accuracy_and_macro_f1,
    apple_rows,
    customer_tweets,
    is_held_out,
    softmax,
)

from socialdesk.triage.encoder import HEAD_PATH, LEXICAL, EncoderHead, embed, lexical_features
from socialdesk.triage.sentiment import LABELS, score_sentiment, vader_label
from socialdesk.triage.text import clean

SELF_TRAINING_CONFIDENCE = 0.8
TWCS_STRIDE = 16
# Every other Apple training post: the embedding, at a few posts/s here, is the slow part.
APPLE_TRAIN_STRIDE = 2
BATCH = 64


def cached_embeddings(texts: list[str], cache_dir: Path | None) -> np.ndarray:
    if cache_dir is None:
        return embed_in_batches(texts)
    # One file per batch, so an interrupted run resumes where it stopped.
    cache_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for start in range(0, len(texts), BATCH):
        chunk = texts[start : start + BATCH]
        key = hashlib.sha256("\n\x00".join(chunk).encode()).hexdigest()[:16]
        path = cache_dir / f"e5-{key}.npy"
        if not path.exists():
            np.save(path, embed(chunk))
        rows.append(np.load(path))
        print(f"  embedded {min(start + BATCH, len(texts))}/{len(texts)}", flush=True)
    return np.vstack(rows)


def embed_in_batches(texts: list[str]) -> np.ndarray:
    rows = []
    for start in range(0, len(texts), BATCH):
        rows.append(embed(texts[start : start + BATCH]))
        print(f"  embedded {min(start + BATCH, len(texts))}/{len(texts)}", flush=True)
    return np.vstack(rows)


def train(features: np.ndarray, targets: np.ndarray, sample_weight: np.ndarray) -> EncoderHead:
    classes = len(LABELS)
    weights = np.zeros((features.shape[1], classes))
    bias = np.zeros(classes)
    one_hot = np.eye(classes)[targets]
    class_weight = len(targets) / (classes * np.bincount(targets, minlength=classes))
    weight = sample_weight * class_weight[targets]
    l2, rate = 1e-3, 0.5
    moment_w, moment_b = np.zeros_like(weights), np.zeros_like(bias)
    for _ in range(1500):
        error = (softmax(features @ weights + bias) - one_hot) * weight[:, None] / weight.sum()
        moment_w = 0.9 * moment_w + features.T @ error + l2 * weights
        moment_b = 0.9 * moment_b + error.sum(axis=0)
        weights -= rate * moment_w
        bias -= rate * moment_b
    return EncoderHead(weights=weights, bias=bias)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=HEAD_PATH)
    parser.add_argument("--cache", type=Path, default=Path(".cache/encoder"))
    parser.add_argument("--no-self-training", action="store_true")
    args = parser.parse_args()

    labelled = apple_rows(args.data)
    train_rows = [(t, label) for t, label in labelled if not is_held_out(t)]
    held_out = [(t, label) for t, label in labelled if is_held_out(t)]
    print(f"Apple: {len(train_rows)} training, {len(held_out)} held out")
    index = {label: i for i, label in enumerate(LABELS)}

    def features(texts: list[str]) -> np.ndarray:
        return np.hstack([cached_embeddings(texts, args.cache), lexical_features(texts)])

    held_texts = [t for t, _ in held_out]
    held_x = features(held_texts)
    train_rows = train_rows[::APPLE_TRAIN_STRIDE]
    train_texts = [t for t, _ in train_rows]
    train_x = features(train_texts)
    train_y = np.array([index[label] for _, label in train_rows])
    truth = [index[label] for _, label in held_out]

    head = train(train_x, train_y, np.ones(len(train_y)))
    if not args.no_self_training:
        unlabelled = customer_tweets(args.data)[::TWCS_STRIDE]
        unlabelled_x = features(unlabelled)
        probabilities = head.probabilities(unlabelled_x[:, :-LEXICAL], unlabelled_x[:, -LEXICAL:])
        confident = probabilities.max(axis=1) >= SELF_TRAINING_CONFIDENCE
        print(f"self-training: {int(confident.sum())} of {len(unlabelled)} twcs tweets")
        head = train(
            np.vstack([train_x, unlabelled_x[confident]]),
            np.concatenate([train_y, probabilities[confident].argmax(axis=1)]),
            np.concatenate([np.ones(len(train_y)), np.full(int(confident.sum()), 0.5)]),
        )

    encoder = head.probabilities(held_x[:, :-LEXICAL], held_x[:, -LEXICAL:]).argmax(axis=1).tolist()
    inline = [index[score_sentiment(clean(t)).label] for t in held_texts]
    vader = [index[vader_label(float(row[3]))] for row in held_x[:, -LEXICAL:]]
    for name, predicted in (("VADER alone", vader), ("inline", inline), ("encoder", encoder)):
        accuracy, macro_f1 = accuracy_and_macro_f1(truth, predicted)
        print(f"held-out {name}: accuracy {accuracy:.3f}, macro-F1 {macro_f1:.3f}")
    head.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
