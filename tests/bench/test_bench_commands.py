"""Every ``socialdesk bench …`` command runs, at the smallest size, through the CLI.

Benchmarks are run by hand, rarely, so a seed that drifts from the models (a generated
column, a new account rule) goes unnoticed until someone needs the figures. These runs
check that each command finishes and prints its figures, on the backend under test;
they time nothing (speed is what the commands themselves report)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.cli_common import console
from socialdesk.store.migrate import upgrade
from tests.conftest import BACKEND, PG_ADMIN_URL

runner = CliRunner()


def _bench(*args: str) -> str:
    backend = [] if BACKEND == "sqlite" else ["--database-url", PG_ADMIN_URL]
    # Wide enough that no table row wraps (the row lookups read one line per row).
    console.width = 250
    result = runner.invoke(app, ["bench", *args, *backend])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def _number_row(output: str, label: str) -> list[str]:
    """The cells of the table row starting with ``label`` (Rich box characters split)."""
    for line in output.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃]", line) if c.strip()]
        if cells and cells[0] == label:
            return cells
    raise AssertionError(f"no row {label!r} in:\n{output}")


def _twcs(folder: Path) -> Path:
    """A tiny file in the twcs format: customers writing to a brand, the brand replying."""
    (folder / "twcs").mkdir()
    with (folder / "twcs" / "twcs_head_5000.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id",
             "in_response_to_tweet_id"]
        )  # fmt: skip
        for i in range(1, 21):
            customer, reply = 100 + 2 * i, 101 + 2 * i
            stamp = f"Tue Oct 31 22:{i:02d}:47 +0000 2017"
            ask = f"@AcmeSupport my order {i} has not arrived"
            answer = f"@{9000 + i} sorry, we are looking into it"
            writer.writerow([customer, 9000 + i, "True", stamp, ask, reply, ""])
            writer.writerow([reply, "AcmeSupport", "False", stamp, answer, "", customer])
    return folder


def test_bench_ingest(tmp_path: Path) -> None:
    out = _bench("ingest", "--posts", "40", "--runs", "1", "--data-dir", str(_twcs(tmp_path)))
    median = _number_row(out, "median")
    assert float(median[1].replace(",", "")) > 0  # pipeline posts/s
    assert int(_number_row(out, "1")[-1].replace(",", "")) > 0  # tickets made


def test_bench_list() -> None:
    out = _bench("list", "--tickets", "60", "--requests", "3")
    for query in ("open, channel x", "open, one account", "all, newest"):
        assert len(_number_row(out, query)) == 5


def test_bench_pages() -> None:
    out = _bench("pages", "--tickets", "60", "--requests", "2", "--rounds", "1")
    for page in ("inbox: all open, newest", "inbox: SLA at risk", "conversation page"):
        assert len(_number_row(out, page)) >= 3
    # The forced-miss row's requests all computed the view counts.
    assert _number_row(out, "inbox: all open, newest, counts cache miss")[-2] == "2"


def test_bench_webhooks() -> None:
    out = _bench("webhooks", "--events", "20", "--clients", "2", "--runs", "1")
    assert "no event lost" in out
    assert _number_row(out, "1")[-2:] == ["20", "20"]  # raw events, messages


def test_bench_reports() -> None:
    out = _bench("reports", "--tickets", "300", "--requests", "2", "--raw-runs", "1")
    for query in ("by day", "by channel"):
        assert len(_number_row(out, query)) == 6
    assert "into rollups took" in out


def test_bench_reports_times_a_kept_database_again_without_seeding(tmp_path: Path) -> None:
    out = _bench("reports", "--tickets", "200", "--requests", "1", "--raw-runs", "1", "--keep")
    kept = re.search(r"--seeded (\S+)", out.replace("\n", ""))
    assert kept, out
    url = kept.group(1)
    try:
        again = _bench("reports", "--requests", "1", "--raw-runs", "1", "--seeded", url)
        assert "seeding" not in again
        assert len(_number_row(again, "by day")) == 6
        assert "folding 0 days" in again  # folded by the first run already
    finally:
        _drop(url)
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(empty)
    refused = runner.invoke(app, ["bench", "reports", "--seeded", empty])
    assert refused.exit_code == 2  # README: exit codes
    assert "seed one with --keep first" in refused.output


def _drop(url: str) -> None:
    if url.startswith("sqlite"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()
        return
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_bench_sla() -> None:
    out = _bench("sla", "--tickets", "50", "--runs", "2")
    assert "scan every 10 min" in out
    assert "target: periodic scan" in out


def test_bench_triage() -> None:
    out = _bench("triage", "--posts", "40")
    row = _number_row(out, "1")
    assert int(row[1].replace(",", "")) > 0  # customer posts pending after ingest
    assert float(row[2]) > 0 and row[-1] == "0"  # the encoder drained them all


def test_bench_load() -> None:
    out = _bench("load", "--rate", "20", "--seconds", "2", "--agents", "2")
    assert "lost events: 0" in out
    replies = re.search(r"replies: (\d+);", out)
    assert replies is not None and int(replies.group(1)) > 0
    assert len(_number_row(out, "webhook acks under load")) == 6


def test_bench_memory() -> None:
    out = _bench("memory", "--messages", "120", "--clients", "2", "--rounds", "1")
    busy = _number_row(out, "server after the requests")
    assert float(busy[1]) > 0 and busy[2] == "4"  # peak MiB, 2 clients x (list + search)


def test_bench_radar() -> None:
    out = _bench("radar", "--posts", "300", "--runs", "2", "--accounts", "2")
    row = _number_row(out, "periodic (+50 posts)")
    assert len(row) == 4 and row[3] == "1000"
    assert "first pass" in out and "incidents raised by the timed passes" in out
