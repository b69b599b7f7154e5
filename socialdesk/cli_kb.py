"""`socialdesk kb ...`: maintenance of the knowledge base's search."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from socialdesk.cli_common import console, fail
from socialdesk.config import get_settings
from socialdesk.store.db import Database

kb_app = typer.Typer(no_args_is_help=True, help="The knowledge base.")


@kb_app.command("embed")
def kb_embed(
    everything: Annotated[
        bool, typer.Option("--all", help="re-embed every article, not only the missing ones")
    ] = False,
) -> None:
    """Embed the articles that have no embedding yet (written while the encoder was off,
    or before the hybrid search existed); safe to run again."""
    from socialdesk.knowledge.semantic import BATCH, embed_batch, to_embed

    settings = get_settings()
    if not settings.triage_encoder:
        raise fail(
            "the encoder is off (SOCIALDESK_TRIAGE_ENCODER=false): the search would not use "
            "the embeddings; turn it on first"
        )
    db = Database(settings.database_url)
    with db.session() as s:
        ids = to_embed(s, everything)
    done = 0
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("articles embedded", total=len(ids))
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            # One transaction per batch: an interrupted run keeps what it embedded.
            with db.write() as s:
                done += embed_batch(s, batch)
            progress.advance(task, len(batch))
    console.print(f"{done} articles embedded.")
