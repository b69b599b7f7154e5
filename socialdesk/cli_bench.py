"""``socialdesk bench``: the benchmarks whose figures go to docs/benchmarks.md; each also
runs at a tiny size in the suite (tests/bench), so none rots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from socialdesk.cli_common import DEFAULT_DEMO_DATA, console, fail

bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks (figures go to docs/benchmarks.md).")

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(help="a scratch database to seed; defaults to a temporary SQLite file"),
]


@bench_app.command("ingest")
def bench_ingest(
    posts: Annotated[
        int, typer.Option("-n", "--posts", help="posts to push through the pipeline")
    ] = 20_000,
    runs: Annotated[int, typer.Option(help="repetitions; the median is reported")] = 3,
    database_url: DatabaseUrlOption = None,
    data_dir: Annotated[Path, typer.Option()] = DEFAULT_DEMO_DATA,
) -> None:
    """Posts/s through the full pipeline vs. a plain bulk insert of the same rows."""
    from socialdesk.bench.ingest import run_ingest_bench

    try:
        run_ingest_bench(
            console, posts=posts, runs=runs, database_url=database_url, data_dir=data_dir
        )
    except ValueError as exc:  # no twcs data where --data-dir points
        raise fail(str(exc)) from None


@bench_app.command("list")
def bench_list(
    tickets: Annotated[int, typer.Option(help="tickets in the database")] = 200_000,
    requests: Annotated[int, typer.Option(help="timed requests per query")] = 200,
    database_url: DatabaseUrlOption = None,
) -> None:
    """p50/p95 latency of listing open tickets through the API with many tickets stored."""
    from socialdesk.bench.listing import run_list_bench

    run_list_bench(console, tickets=tickets, requests=requests, database_url=database_url)


@bench_app.command("webhooks")
def bench_webhooks(
    events: Annotated[int, typer.Option(help="signed events to send")] = 5_000,
    clients: Annotated[int, typer.Option(help="concurrent HTTP clients")] = 8,
    runs: Annotated[int, typer.Option(help="repetitions; the median is reported")] = 3,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Acknowledged webhook events/s and latency, X and Meta, over loopback."""
    from socialdesk.bench.webhooks import run_webhook_bench

    run_webhook_bench(console, events=events, clients=clients, runs=runs, database_url=database_url)


@bench_app.command("pages")
def bench_pages(
    tickets: Annotated[int, typer.Option(help="tickets in the database")] = 200_000,
    requests: Annotated[int, typer.Option(help="timed requests per page")] = 200,
    database_url: DatabaseUrlOption = None,
    rounds: Annotated[int, typer.Option(help="timed rounds; medians are reported")] = 3,
) -> None:
    """p50/p95 of the inbox page (views, sorts, SLA at risk, time due) and the
    conversation page over HTTP, signed in."""
    from socialdesk.bench.pages import run_pages_bench

    run_pages_bench(
        console, tickets=tickets, requests=requests, database_url=database_url, rounds=rounds
    )


@bench_app.command("load")
def bench_load(
    rate: Annotated[float, typer.Option(help="signed webhooks per second")] = 1_000,
    seconds: Annotated[float, typer.Option(help="how long the webhooks keep coming")] = 60,
    agents: Annotated[int, typer.Option(help="simulated agents listing, opening, replying")] = 20,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Webhooks at a steady rate while agents work the queue: ack p99, page p95, lost
    events, against same-run baselines (CRC at the same rate, agents alone)."""
    from socialdesk.bench.load import run_load_bench

    if rate <= 0 or seconds <= 0 or agents < 1:
        raise fail("--rate and --seconds must be above 0, --agents at least 1")
    run_load_bench(console, rate=rate, seconds=seconds, agents=agents, database_url=database_url)


@bench_app.command("memory")
def bench_memory(
    messages: Annotated[int, typer.Option(help="messages in the database")] = 1_000_000,
    clients: Annotated[int, typer.Option(help="concurrent list/search clients")] = 4,
    rounds: Annotated[int, typer.Option(help="list + search rounds per client")] = 5,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Peak RSS of the web server process while clients list and search many messages."""
    from socialdesk.bench.memory import run_memory_bench

    run_memory_bench(
        console, messages=messages, clients=clients, rounds=rounds, database_url=database_url
    )


@bench_app.command("search")
def bench_search(
    messages: Annotated[int, typer.Option(help="messages in the database")] = 1_000_000,
    requests: Annotated[int, typer.Option(help="timed requests per search and round")] = 50,
    rounds: Annotated[int, typer.Option(help="timed rounds; medians are reported")] = 3,
    baseline_requests: Annotated[
        int, typer.Option(help="timed runs of the ILIKE baseline per search and round")
    ] = 5,
    database_url: DatabaseUrlOption = None,
    data_dir: Annotated[Path, typer.Option(help="the shared data folder (twcs)")] = (
        DEFAULT_DEMO_DATA
    ),
) -> None:
    """p50/p95 of ticket search over HTTP (rare word, common word, @handle, phrase) and
    the pre-0020 ILIKE query over the same messages as the baseline."""
    from socialdesk.bench.search import run_search_bench

    if not (data_dir / "twcs").is_dir():
        raise fail(f"{data_dir / 'twcs'} not found: --data-dir is the shared data folder")
    run_search_bench(
        console, messages=messages, requests=requests, rounds=rounds,
        baseline_requests=baseline_requests, database_url=database_url, data_dir=data_dir,
    )  # fmt: skip


@bench_app.command("sla")
def bench_sla(
    tickets: Annotated[int, typer.Option(help="open tickets in the database")] = 200_000,
    runs: Annotated[int, typer.Option(help="timed scans; the median is reported")] = 5,
    interval: Annotated[float, typer.Option(help="minutes between two scans")] = 10.0,
    database_url: DatabaseUrlOption = None,
) -> None:
    """The periodic SLA scan (warnings and breaches) with many open tickets."""
    from socialdesk.bench.sla import run_sla_bench

    run_sla_bench(
        console, tickets=tickets, runs=runs, interval_minutes=interval, database_url=database_url
    )


@bench_app.command("triage")
def bench_triage(
    posts: Annotated[
        int, typer.Option("-n", "--posts", help="posts to ingest; their customer posts are refined")
    ] = 10_000,
    runs: Annotated[int, typer.Option(help="repetitions; the median is reported")] = 1,
    database_url: DatabaseUrlOption = None,
    data_dir: Annotated[Path, typer.Option()] = DEFAULT_DEMO_DATA,
) -> None:
    """The triage encoder worker's posts/s and the drain time of a 10,000-post surge,
    against the inline pass's posts/s."""
    from socialdesk.bench.triage import run_triage_bench

    try:
        run_triage_bench(
            console, posts=posts, runs=runs, database_url=database_url, data_dir=data_dir
        )
    except ValueError as exc:  # no twcs data where --data-dir points
        raise fail(str(exc)) from None


@bench_app.command("reports")
def bench_reports(
    tickets: Annotated[int, typer.Option(help="tickets opened over the last year")] = 1_000_000,
    requests: Annotated[int, typer.Option(help="timed overview requests per query")] = 20,
    raw_runs: Annotated[int, typer.Option(help="timed raw-event folds (the baseline)")] = 3,
    database_url: DatabaseUrlOption = None,
    keep: Annotated[
        bool, typer.Option(help="keep the seeded database and print its URL for --seeded")
    ] = False,
    seeded: Annotated[
        str | None,
        typer.Option(help="time a database a --keep run seeded, without seeding again"),
    ] = None,
) -> None:
    """p50/p95 of the reports overview over HTTP (rollups) against raw events."""
    from socialdesk.bench.reports import run_reports_bench

    try:
        run_reports_bench(
            console,
            tickets=tickets,
            requests=requests,
            raw_runs=raw_runs,
            database_url=database_url,
            seeded=seeded,
            keep=keep,
        )
    except LookupError as exc:
        raise fail(str(exc)) from None


@bench_app.command("radar")
def bench_radar(
    posts: Annotated[int, typer.Option(help="negative posts in the last 48 hours")] = 200_000,
    runs: Annotated[int, typer.Option(help="timed passes; the median is reported")] = 5,
    accounts: Annotated[int, typer.Option(help="channel accounts the posts go to")] = 4,
    database_url: DatabaseUrlOption = None,
) -> None:
    """The crisis radar's periodic pass (target: under 1 s with 200,000 posts in 48 h)."""
    from socialdesk.bench.radar import run_radar_bench

    run_radar_bench(console, posts=posts, runs=runs, accounts=accounts, database_url=database_url)
