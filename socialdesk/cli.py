"""The ``socialdesk`` command."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from socialdesk.cli_bench import bench_app
from socialdesk.cli_common import console, fail
from socialdesk.cli_eval import eval_app
from socialdesk.cli_kb import kb_app
from socialdesk.cli_raw_events import raw_events_app
from socialdesk.cli_report import report
from socialdesk.config import get_settings
from socialdesk.store.db import Database, utcnow

app = typer.Typer(no_args_is_help=True, help="socialdesk: a social customer service desk.")
app.add_typer(bench_app, name="bench")
app.add_typer(raw_events_app, name="raw-events")
app.add_typer(eval_app, name="eval")
app.add_typer(kb_app, name="kb")
app.command("report")(report)


def _database() -> Database:
    return Database(get_settings().database_url)


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


radar_app = typer.Typer(no_args_is_help=True, help="The crisis radar (docs/radar.md).")
app.add_typer(radar_app, name="radar")


def _radar_pass(db: Database, since: Any, progress: Progress) -> Any:
    from socialdesk.radar.scan import scan

    task = progress.add_task("crisis radar", total=None)
    return scan(
        db,
        since=since,
        progress=lambda n, total: progress.update(task, completed=n, total=total),
    )


def _print_radar(result: Any) -> None:
    if result is None:
        console.print("[yellow]another process is running the radar's pass; try again[/]")
        return
    console.print(
        f"crisis radar: {result.indexed} negative posts indexed, "
        f"{len(result.raised)} incident(s) raised, {result.updated} updated, "
        f"{result.closed} closed"
    )


@radar_app.command("scan")
def radar_scan(
    since: Annotated[
        str | None,
        typer.Option(help="evaluate again from this UTC time (ISO 8601), e.g. after a replay"),
    ] = None,
) -> None:
    """Run the radar's pass now: index new negative posts, raise, grow and close incidents
    at the times the posts say (a replayed history raises what live would have)."""
    from datetime import UTC, datetime

    start = None
    if since is not None:
        try:
            start = datetime.fromisoformat(since)
        except ValueError as exc:
            raise fail(f"--since: not an ISO 8601 time: {since!r}") from exc
        start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    with _progress() as progress:
        result = _radar_pass(_database(), start, progress)
    _print_radar(result)


attachments_app = typer.Typer(no_args_is_help=True, help="Attachments of messages.")
app.add_typer(attachments_app, name="attachments")


@attachments_app.command("backfill")
def attachments_backfill() -> None:
    """Parse attachments that old messages keep only in their meta into attachment rows
    (the same parser new deliveries use); safe to run again."""
    from socialdesk.pipeline.attachment_backfill import backfill_step, messages_to_read

    db = _database()
    total = messages_to_read(db)
    filled = added = 0
    last_id = 0
    with _progress() as progress:
        task = progress.add_task("messages read", total=total)
        while (step := backfill_step(db, last_id)) is not None:
            last_id = step.last_id
            filled += step.messages_filled
            added += step.attachments_added
            progress.advance(task, step.messages_read)
    console.print(f"{added} attachments added to {filled} messages ({total} messages read).")


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic)."""
    from sqlalchemy.exc import OperationalError

    from socialdesk.store.migrate import upgrade

    url = get_settings().database_url
    try:
        upgrade(url)
    except OperationalError as exc:
        raise fail(f"cannot reach the database at {url}: {exc.orig}") from exc
    console.print(f"[green]database is at the latest schema[/] ({url})")


@app.command()
def createuser(
    email: Annotated[str, typer.Option(help="sign-in e-mail")],
    password: Annotated[str, typer.Option(help="at least 8 characters and not easy to guess")],
    role: Annotated[str, typer.Option(help="admin, lead, agent, marketing or viewer")] = "agent",
    name: Annotated[str, typer.Option(help="display name")] = "",
    workspace: Annotated[str, typer.Option(help="workspace slug")] = "default",
) -> None:
    """Create a user who can sign in and get API tokens."""
    from socialdesk.actions.admin import create_user, ensure_workspace
    from socialdesk.actions.recording import ActionError
    from socialdesk.domain.enums import Role

    try:
        role_value = Role(role.lower())
    except ValueError:
        raise fail(
            f"unknown role {role!r}; use one of {', '.join(r.value for r in Role)}"
        ) from None
    db = _database()
    try:
        with db.write() as session:
            user = create_user(
                session,
                email,
                password,
                role_value,
                name=name,
                workspace=ensure_workspace(session, workspace),
            )
            user_id = user.id
    except ActionError as exc:
        raise fail(exc.message) from exc
    console.print(
        f"[green]created[/] user {user_id} <{email.strip().lower()}> with role {role_value}"
    )


@app.command()
def replay(
    path: Annotated[Path, typer.Argument(help="a CSV in the twcs format")],
    workspace: Annotated[str, typer.Option(help="workspace slug")] = "default",
    end_at_now: Annotated[
        bool,
        typer.Option(
            "--end-at-now",
            help="move every post's time by one offset so the newest is now (for demos)",
        ),
    ] = False,
    encoder_pass: Annotated[
        bool,
        typer.Option(
            "--encoder-pass/--no-encoder-pass",
            help="run the second triage pass before returning (else the workers do it later)",
        ),
    ] = True,
) -> None:
    """Load customer-support history (Kaggle twcs CSV) through the full pipeline."""
    from socialdesk.replay.service import replay_twcs
    from socialdesk.replay.twcs import TwcsFormatError
    from socialdesk.wiring.pipeline import build_pipeline

    if not path.is_file():
        raise fail(f"no such file: {path}")
    db = _database()
    pipeline = build_pipeline(get_settings())
    with _progress() as progress:
        task = progress.add_task(f"replaying {path.name}", total=None)
        try:
            report = replay_twcs(
                db,
                path,
                pipeline=pipeline,
                workspace_slug=workspace,
                on_start=lambda total: progress.update(task, total=total),
                on_progress=lambda n: progress.advance(task, n),
                end_at=utcnow() if end_at_now else None,
            )
        except (TwcsFormatError, UnicodeDecodeError) as exc:
            raise fail(str(exc)) from exc
        # The second triage pass (the encoder) before returning: a batch import ends refined.
        from socialdesk.automation.triage_refine import TriageRefineWorker, pending_count

        refined = 0
        if encoder_pass and get_settings().triage_encoder:
            encoder = progress.add_task("triage encoder pass", total=pending_count(db))
            refined = TriageRefineWorker(db).drain(lambda n: progress.advance(encoder, n))
        # The radar over the replayed window: incidents at the times they would have been
        # raised live (after the encoder pass, so it counts the final labels).
        radar = _radar_pass(db, None, progress)
    table = Table(title=f"replay of {path.name}", show_header=False)
    table.add_row("rows read", str(report.rows_read))
    table.add_row("rows loaded", str(report.rows_loaded))
    table.add_row("tickets created", str(report.tickets_created))
    table.add_row("brand accounts created", str(report.accounts_created))
    table.add_row("messages refined by the encoder", str(refined))
    table.add_row("rows failed", str(report.failed))
    table.add_row("rows skipped", str(report.rows_skipped))
    if report.shifted_by is not None:
        table.add_row("times moved by", f"{report.shifted_by.days:,} days (newest post is now)")
    for reason, count in sorted(report.skipped.items(), key=lambda kv: -kv[1]):
        table.add_row(f"  skipped: {reason}", str(count))
    console.print(table)
    _print_radar(radar)
    for error in report.errors[:5]:
        console.print(f"[red]failed:[/] {error}")


HostOption = Annotated[
    str | None,
    typer.Option(help="address to listen on [default: SOCIALDESK_HOST or 127.0.0.1]"),
]
PortOption = Annotated[
    int | None,
    typer.Option(min=1, max=65535, help="port to listen on [default: SOCIALDESK_PORT or 8000]"),
]


def _check_port_free(host: str, port: int) -> None:
    """Fail now, with the fix in the message, rather than after minutes of loading."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # The same option uvicorn sets, so a port in TIME_WAIT is not called taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise fail(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}): stop what uses the "
                f"port, or choose another one: --port {port + 1} (make demo PORT={port + 1}, "
                f"or SOCIALDESK_PORT={port + 1})"
            ) from exc


@app.command()
def serve(host: HostOption = None, port: PortOption = None) -> None:
    """Serve the API and the inbox (and the background workers, unless
    SOCIALDESK_RUN_WORKERS=false)."""
    import uvicorn

    from socialdesk.observability.logs import configure_logging
    from socialdesk.web.app import create_app

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    _check_port_free(host, port)
    configure_logging(settings.log_format, settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        # JSON logging routes uvicorn's own loggers through its handler.
        log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
        # Uvicorn would believe X-Forwarded-For from any local peer; the app believes it
        # only from SOCIALDESK_TRUSTED_PROXIES (web/client_address.py).
        proxy_headers=False,
    )


@app.command()
def emulate(
    platform: Annotated[
        str, typer.Argument(help="x, meta, mastodon, bluesky, email, whatsapp or a plugin's")
    ],
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 9100,
    webhook_url: Annotated[
        str | None, typer.Option(help="where to deliver signed webhooks (x, meta)")
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(help="X consumer secret / Meta app secret; defaults to the settings"),
    ] = None,
) -> None:
    """Run a local stand-in for a network's API, speaking its real wire format.

    Point socialdesk at it with SOCIALDESK_X_API_BASE_URL / SOCIALDESK_META_GRAPH_BASE_URL
    (or a Mastodon/Bluesky account's settings.base_url); act as a customer through its
    /_emulator routes (see docs/channels.md).
    """
    import uvicorn

    name = platform.lower()
    if name in ("email", "mail"):
        # The mailbox is IMAP and SMTP servers, not an HTTP app: served here with its
        # account body and a live list of what the desk sends.
        _emulate_email(port)
        return
    emulator = _descriptor_emulator(name, secret, webhook_url)
    console.print(f"{name} emulator on http://127.0.0.1:{port}")
    uvicorn.run(emulator, host="127.0.0.1", port=port, log_level="warning")


def _descriptor_emulator(name: str, secret: str | None, webhook_url: str | None) -> Any:
    """A network folder's own emulator (``ChannelDescriptor.emulator``, "module:factory"),
    called as ``factory(secret, webhook_url=...)``; a ``None`` secret lets the network fall
    back to its configured one. The registry is the only list of networks."""
    import importlib

    from socialdesk.channels.descriptor import Absent
    from socialdesk.channels.networks import all_networks, find_descriptor

    descriptor = find_descriptor(name)
    if descriptor is None or isinstance(descriptor.emulator, Absent):
        served = sorted(d.name for d in all_networks() if not isinstance(d.emulator, Absent))
        raise fail(f"no emulator for {name!r}; use one of: {', '.join(served)}")
    module, _, factory = descriptor.emulator.partition(":")
    return getattr(importlib.import_module(module), factory)(secret, webhook_url=webhook_url)


def _emulate_email(port: int) -> None:
    """Real IMAP (the brand's mailbox) and SMTP (what socialdesk sends) on loopback."""
    import json
    import signal
    import threading

    from socialdesk.channels.email.emulator import MailEmulator

    try:
        mail = MailEmulator().start(imap_port=port, smtp_port=port + 1)
    except (OSError, RuntimeError, TimeoutError) as exc:
        raise fail(f"cannot serve on ports {port} and {port + 1}: {exc}") from exc
    console.print(f"email emulator: IMAP on 127.0.0.1:{port}, SMTP on 127.0.0.1:{port + 1}")
    account = {
        "platform": "email",
        "handle": mail.address,
        "external_id": mail.address,
        "settings": mail.account_settings(),
        "secrets": mail.account_secrets(),
    }
    console.print("connect it with POST /api/v1/channel-accounts and this body:")
    console.print_json(json.dumps(account))
    console.print(
        "act as a customer: any IMAP client logged in as the brand can APPEND a message to "
        "INBOX (that is what a mail server's delivery does); replies appear below"
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    shown = 0
    while not stop.wait(0.5):
        sent = mail.sent()
        for item in sent[shown:]:
            message = item.message
            console.print(f"sent: to {', '.join(item.rcpt_tos)}: {message['Subject']}")
        shown = len(sent)
    mail.stop()


@app.command()
def worker(
    metrics_port: Annotated[
        int | None,
        typer.Option(help="serve /healthz, /readyz and /metrics for this process on this port"),
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="address for --metrics-port")] = "127.0.0.1",
) -> None:
    """Run the background workers (webhook processing, delivery, polling, the SLA scan
    and time rules, e-mail notifications, the triage encoder pass) on their own, for
    installs that serve the web app with SOCIALDESK_RUN_WORKERS=false."""
    import signal
    import threading

    from socialdesk.observability.logs import configure_logging
    from socialdesk.web.app import create_app

    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    web = create_app(settings)
    workers = [
        web.state.raw_event_worker,
        web.state.delivery_worker,
        web.state.poller,
        web.state.listening_poller,
        web.state.sla_worker,
        web.state.notify_worker,
        *([web.state.attachment_fetch_worker] if settings.attachment_fetch else []),
        *([web.state.triage_worker] if settings.triage_encoder else []),
        web.state.reports_worker,
        *([web.state.radar_worker] if settings.radar_seconds > 0 else []),
    ]
    for item in workers:
        item.start()
    server = None
    if metrics_port is not None:
        from socialdesk.loopback import BackgroundServer
        from socialdesk.web.ops import create_ops_app

        ops_app = create_ops_app(settings, web.state.db, lambda: workers)
        try:
            server = BackgroundServer(ops_app, host=metrics_host, port=metrics_port)
            server.start()
        except (OSError, RuntimeError, TimeoutError) as exc:
            for item in reversed(workers):
                item.stop()
            raise fail(f"cannot serve metrics on {metrics_host}:{metrics_port}: {exc}") from exc
        console.print(f"health and metrics on {server.url}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    console.print("workers running; Ctrl-C to stop")
    while not stop.wait(0.5):
        pass
    if server is not None:
        server.stop()
    for item in reversed(workers):
        item.stop()


@app.command("import-spool")
def import_spool(
    path: Annotated[
        Path, typer.Argument(help="an inbox spool set aside as …-inbox-orphaned-<time>")
    ],
    process: Annotated[
        bool,
        typer.Option("--process/--no-process", help="turn the deliveries into tickets now"),
    ] = True,
) -> None:
    """Import the webhook deliveries of an orphaned inbox spool: they were acknowledged to
    the platforms, so they are still owed a ticket. Each becomes a pending raw event;
    posts already in the database are not doubled."""
    from socialdesk.pipeline.raw_events import import_foreign_spool
    from socialdesk.pipeline.webhook_processing import process_pending
    from socialdesk.store.inbox_spool import NotASpoolError, open_existing_spool
    from socialdesk.web.app import create_app

    try:
        spool = open_existing_spool(str(path))
    except NotASpoolError as exc:
        raise fail(str(exc)) from exc
    db = _database()
    own = db.inbox_spool
    if own is not None and os.path.realpath(own.path) == os.path.realpath(path):
        raise fail(f"{path} is this database's own spool; the worker drains it by itself")
    imported = events = messages = failed = 0
    with _progress() as progress:
        task = progress.add_task(f"importing {path.name}", total=spool.count())
        while moved := import_foreign_spool(db, spool):
            imported += moved
            progress.advance(task, moved)
        if process:
            raw_events = create_app(get_settings(), db).state.raw_event_worker
            ticketing = progress.add_task("turning them into tickets", total=None)
            while (outcome := process_pending(db, raw_events.pipeline, raw_events.parsers)).events:
                events, messages = events + outcome.events, messages + outcome.messages
                failed += outcome.failed
                progress.advance(ticketing, outcome.events)
    spool.close()
    table = Table(title=f"import of {path.name}", show_header=False)
    table.add_row("deliveries imported", f"{imported:,}")
    if process:
        table.add_row("raw events processed", f"{events:,}")
        table.add_row("messages created", f"{messages:,}")
        table.add_row("failed (kept in raw_events with the reason)", f"{failed:,}")
    else:
        table.add_row("state", "pending: the worker turns them into tickets")
    console.print(table)


def main() -> None:
    """The `socialdesk` command. A mistake in the configuration is one clear line and
    exit code 2, not a traceback (exit codes: README.md)."""
    from pydantic import ValidationError

    from socialdesk.store.db import DatabaseUrlError

    try:
        app()
    except ValidationError as exc:
        for error in exc.errors():
            name = "SOCIALDESK_" + "_".join(str(part) for part in error["loc"]).upper()
            console.print(
                f"[bold red]error:[/] {name}={error.get('input')!r}: {error['msg']}",
                highlight=False,
                soft_wrap=True,
            )
        sys.exit(2)
    except DatabaseUrlError as exc:
        console.print(
            f"[bold red]error:[/] SOCIALDESK_DATABASE_URL: {exc}", highlight=False, soft_wrap=True
        )
        sys.exit(2)


# Registered last: the demo commands build on the ones above.
from socialdesk.cli_demo import demo, simulate_customer  # noqa: E402

app.command()(demo)
app.command("simulate-customer")(simulate_customer)

if __name__ == "__main__":
    main()
