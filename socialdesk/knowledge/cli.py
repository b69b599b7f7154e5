"""`socialdesk eval kb`: the suggestion ranking measured on document-prediction files.

Registered on the CLI's `eval` group (cli_eval.py); it lives here, beside the ranking
it measures, so the CLI module only names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from socialdesk.knowledge.ranking import Scores


def _line(name: str, scores: Scores) -> str:
    return (
        f"{name:<24} recall@1 {scores.recall_at_1:.3f}   recall@5 {scores.recall_at_5:.3f}"
        f"   MRR {scores.mrr:.3f}"
    )


def eval_kb(
    index: Annotated[
        Path,
        typer.Option(
            "--index",
            help="past conversations (IBM CDP JSON); docID_url.tsv and company_docIDs.tsv "
            "are read from its folder",
        ),
    ],
    test: Annotated[Path, typer.Option("--test", help="conversations to suggest for")],
    semantic: Annotated[
        bool,
        typer.Option(
            "--semantic",
            help="also measure the embedding signal (the triage encoder; ~25-80 texts/s, "
            "so minutes on the dev file), beside text alone",
        ),
    ] = False,
) -> None:
    """Recall@1, recall@5 and MRR of knowledge suggestions, beside brand popularity."""
    # Imported here: the ranking brings numpy, which no other command needs.
    from socialdesk.knowledge.cdp import (
        CdpFormatError,
        evaluate,
        load_conversations,
        load_documents,
    )
    from socialdesk.knowledge.ranking import Weights

    for path in (index, test):
        if not path.is_file():
            typer.echo(f"error: {path}: no such file", err=True)
            raise typer.Exit(code=2)
    try:
        past = load_conversations(index)
        asked = past if test.resolve() == index.resolve() else load_conversations(test)
    except CdpFormatError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    if not asked:
        typer.echo(f"error: {test}: no conversations", err=True)
        raise typer.Exit(code=2)
    leave_one_out = asked is past
    documents = load_documents(index.parent)
    result = evaluate(past, asked, documents, Weights(), leave_one_out)
    typer.echo(
        f"{len(asked)} conversations, {len(past)} in the index"
        + (" (leave-one-out)" if leave_one_out else "")
        + f", {len(documents.urls)} documents; {result.candidates:.0f} candidates per "
        f"question on average, the linked one among them for {result.covered:.0%}"
    )
    typer.echo(_line("suggestions", result.ranked))
    typer.echo(_line("popularity (baseline)", result.popularity))
    if semantic:
        from socialdesk.knowledge.cdp_semantic import evaluate_semantic
        from socialdesk.triage.encoder import embed

        found = evaluate_semantic(past, asked, documents, Weights(), leave_one_out, embed)
        typer.echo(_line("text alone", found.text))
        typer.echo(_line("text + embeddings", found.text_semantic))
        typer.echo(_line("embeddings alone", found.semantic))
        typer.echo(_line("suggestions + embeddings", found.ranked_semantic))
