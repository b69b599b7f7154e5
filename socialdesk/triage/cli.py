"""`socialdesk eval triage PATH`: the triage labels measured on a `text,label` CSV.

Registered on the CLI's `eval` group (cli_eval.py), beside the passes it measures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from socialdesk.triage.evaluation import Scores


def _report(name: str, scores: Scores) -> None:
    typer.echo(f"{name}: accuracy {scores.accuracy:.3f}   macro-F1 {scores.macro_f1:.3f}")
    for item in scores.per_class:
        typer.echo(
            f"    {item.label:<10} precision {item.precision:.3f}   recall {item.recall:.3f}"
            f"   F1 {item.f1:.3f}   support {item.support}"
        )


def eval_triage(
    path: Annotated[Path, typer.Argument(help="a CSV with columns text,label")],
    task: Annotated[
        str,
        typer.Option(
            "--task",
            help="sentiment (labels negative/neutral/positive) or complaint (complaint/not)",
        ),
    ] = "sentiment",
    inline_only: Annotated[
        bool,
        typer.Option("--inline-only", help="skip the encoder pass (it reads ~10 posts/s)"),
    ] = False,
) -> None:
    """Accuracy, macro-F1 and per-class figures of the final labels and the inline pass."""
    from socialdesk.triage.analysis import triage
    from socialdesk.triage.evaluation import (
        COMPLAINT_LABELS,
        SENTIMENT_LABELS,
        EvalFileError,
        read_labelled,
        score,
    )

    if task not in ("sentiment", "complaint"):
        typer.echo(f"error: unknown --task {task!r}; use sentiment or complaint", err=True)
        raise typer.Exit(code=2)
    if not path.is_file():
        typer.echo(f"error: {path}: no such file", err=True)
        raise typer.Exit(code=2)
    try:
        rows = read_labelled(path, task)
    except EvalFileError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    texts = [text for text, _ in rows]
    gold = [label for _, label in rows]
    inline = [triage(text) for text in texts]
    typer.echo(f"{len(rows)} labelled posts from {path.name} (task: {task})")
    if task == "complaint":
        # Intent comes from the inline pass alone; the encoder refines sentiment and topic.
        labels = ["complaint" if item.intent == "complaint" else "not" for item in inline]
        _report(
            "final labels (both passes; intent is set by the inline pass)",
            score(gold, labels, COMPLAINT_LABELS),
        )
        _report("inline pass alone", score(gold, labels, COMPLAINT_LABELS))
        return
    inline_labels = [item.sentiment for item in inline]
    if inline_only:
        final = inline_labels
        name = "final labels (encoder pass skipped: --inline-only)"
    else:
        from socialdesk.triage.encoder import final_labels

        final = final_labels(texts)
        name = "final labels (both passes)"
    _report(name, score(gold, final, SENTIMENT_LABELS))
    _report("inline pass alone", score(gold, inline_labels, SENTIMENT_LABELS))
