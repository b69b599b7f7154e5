"""Scoring triage labels against a labelled file (`socialdesk eval triage`).

Pure: the file is read into ``(text, label)`` pairs, the CLI asks the passes for their
labels, and these functions compare. Metrics are the usual ones (accuracy, per-class
precision/recall/F1, their unweighted mean as macro-F1), written out here because they
are a dozen lines and the project carries no scikit-learn.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SENTIMENT_LABELS = ("negative", "neutral", "positive")
COMPLAINT_LABELS = ("complaint", "not")
# Spellings of the two complaint classes that labelled sets use.
_COMPLAINT_ALIASES = {
    "complaint": "complaint",
    "not": "not",
    "not complaint": "not",
    "not_complaint": "not",
    "non-complaint": "not",
    "no": "not",
    "yes": "complaint",
}


class EvalFileError(ValueError):
    """The file cannot be scored; the message says why, for the CLI's one error line."""


@dataclass(frozen=True, slots=True)
class ClassScores:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Scores:
    accuracy: float
    macro_f1: float
    per_class: tuple[ClassScores, ...]


def read_labelled(path: Path, task: str) -> list[tuple[str, str]]:
    """The file's rows as (text, label), labels normalised; refuses what cannot be scored."""
    allowed = SENTIMENT_LABELS if task == "sentiment" else COMPLAINT_LABELS
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = {name.strip().lower(): name for name in reader.fieldnames or ()}
            missing = [name for name in ("text", "label") if name not in columns]
            if missing:
                raise EvalFileError(
                    f"{path}: missing column {', '.join(missing)} (need text,label)"
                )
            rows: list[tuple[str, str]] = []
            unknown: set[str] = set()
            for row in reader:
                text = (row.get(columns["text"]) or "").strip()
                raw = (row.get(columns["label"]) or "").strip().lower()
                label = _COMPLAINT_ALIASES.get(raw) if task == "complaint" else raw
                if not text:
                    continue
                if label is None or label not in allowed:
                    unknown.add(raw or "(empty)")
                    continue
                rows.append((text, label))
    except UnicodeDecodeError as error:
        raise EvalFileError(f"{path}: not UTF-8 text ({error.reason})") from None
    except csv.Error as error:
        raise EvalFileError(f"{path}: not a CSV file ({error})") from None
    if unknown:
        shown = ", ".join(sorted(unknown)[:5])
        raise EvalFileError(
            f"{path}: unknown label(s) {shown}; --task {task} takes {', '.join(allowed)}"
        )
    if not rows:
        raise EvalFileError(f"{path}: no labelled rows")
    return rows


def score(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> Scores:
    """Accuracy, macro-F1 over ``labels`` and each class's figures."""
    if len(gold) != len(predicted) or not gold:
        raise ValueError("gold and predicted must be non-empty and of one length")
    per_class = []
    for label in labels:
        true_positive = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        predicted_count = sum(p == label for p in predicted)
        support = sum(g == label for g in gold)
        precision = true_positive / predicted_count if predicted_count else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append(ClassScores(label, precision, recall, f1, support))
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    macro_f1 = sum(item.f1 for item in per_class) / len(per_class)
    return Scores(accuracy, macro_f1, tuple(per_class))
