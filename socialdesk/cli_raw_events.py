"""``socialdesk raw-events``: the failed deliveries and retrying them from a shell.

``list`` prints a table of failed (or pending) raw events with their reasons; ``retry``
requeues every failed one, or ``--id N``, for the raw-event worker, and with
``--process`` turns them into tickets at once (when no worker runs)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from socialdesk.cli_common import console, fail
from socialdesk.config import get_settings
from socialdesk.store.db import Database

raw_events_app = typer.Typer(
    no_args_is_help=True, help="Failed webhook deliveries and polled posts: list and retry."
)


@raw_events_app.command("list")
def list_command(
    status: Annotated[
        str,
        typer.Option(
            help="failed (with the reason), pending (waiting, or backing off) or ignored "
            "(deliveries holding only events the desk leaves alone, with their types)"
        ),
    ] = "failed",
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="newest first, at most")] = 50,
) -> None:
    """Print the failed (or pending, or ignored) raw events: id, source, when received,
    attempts, reason."""
    from socialdesk.store.repos.raw_events import count_raw_events, list_raw_events

    if status not in ("failed", "pending", "ignored"):
        raise fail(f"--status must be failed, pending or ignored, not {status!r}")
    db = Database(get_settings().database_url)
    with db.session() as s:
        rows = list_raw_events(s, status=status, limit=limit)
        total = count_raw_events(s, status=status)
    if not rows:
        console.print(f"no {status} raw events")
        return
    table = Table(title=f"{status} raw events ({len(rows):,} of {total:,})")
    for column in ("id", "source", "received", "attempts"):
        table.add_column(column, justify="right" if column in ("id", "attempts") else "left")
    table.add_column("next attempt" if status == "pending" else "reason", overflow="fold")
    for r in rows:
        last = str(r.next_attempt_at or "") if status == "pending" else r.reason or ""
        table.add_row(
            str(r.id) + (f" (from {r.split_from_id})" if r.split_from_id else ""),
            r.source,
            r.received_at.strftime("%Y-%m-%d %H:%M:%S"),
            str(r.attempts),
            last,
        )
    console.print(table)


@raw_events_app.command("retry")
def retry_command(
    raw_id: Annotated[
        int | None, typer.Option("--id", min=1, help="only this raw event (else every failed one)")
    ] = None,
    process: Annotated[
        bool,
        typer.Option(
            "--process/--no-process", help="turn them into tickets now, not by the worker"
        ),
    ] = False,
) -> None:
    """Requeue failed raw events (all, or ``--id N``): the worker parses them again."""
    from socialdesk.actions import raw_events as raw_actions
    from socialdesk.actions.recording import ActionError

    db = Database(get_settings().database_url)
    try:
        with db.write() as s:
            if raw_id is None:
                retried = raw_actions.retry_raw_events(s, None, None)
            else:
                retried = [raw_actions.retry_raw_event(s, None, raw_id, None)]
    except ActionError as exc:
        raise fail(exc.message) from None
    console.print(f"{len(retried):,} raw event(s) queued again")
    if process and retried:
        _process_now(db)


def _process_now(db: Database) -> None:
    from socialdesk.domain.enums import RawEventStatus
    from socialdesk.pipeline.webhook_processing import process_pending
    from socialdesk.store.repos.raw_events import count_raw_events
    from socialdesk.web.app import create_app

    worker = create_app(get_settings(), db).state.raw_event_worker
    messages = failed = 0
    while (outcome := process_pending(db, worker.pipeline, worker.parsers)).events:
        messages, failed = messages + outcome.messages, failed + outcome.failed
        if outcome.deferred == outcome.events:
            break  # only transient failures left: they wait for their backoff
    with db.session() as s:
        still = count_raw_events(s, status=str(RawEventStatus.FAILED))
    console.print(f"{messages:,} message(s) stored; {failed:,} failed again; {still:,} failed now")
