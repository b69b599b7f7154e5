"""``socialdesk report``: the overview in the terminal and as CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.cli_common import console
from socialdesk.cli_report import duration
from socialdesk.config import reset_settings_cache
from socialdesk.store.db import Database
from tests.pipeline.helpers import ingest, make_account, post

runner = CliRunner()


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("SOCIALDESK_DATABASE_URL", db.url)
    monkeypatch.setenv("COLUMNS", "200")
    # The console is made once per process: wide enough that no table row wraps,
    # whatever width an earlier test in this worker left it at.
    monkeypatch.setattr(console, "width", 200)
    reset_settings_cache()
    yield db
    reset_settings_cache()


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "-"), (59, "0m 59s"), (180, "3m 00s"), (3600 + 300, "1h 05m"), (30 * 3600, "1d 06h")],
)
def test_duration(seconds: int | None, shown: str) -> None:
    assert duration(seconds) == shown


def test_report_prints_a_table_and_writes_csv(cli_db: Database, tmp_path: Path) -> None:
    x = make_account(cli_db)
    ingest(
        cli_db,
        post(x, "1", "@AcmeSupport my parcel is lost", author="a1"),
        post(x, "2", "Sorry! DM us", outbound=True, reply_to="1", minutes=3),
        post(x, "3", "@AcmeSupport app crashes", author="a2", minutes=10),
    )
    out = tmp_path / "report.csv"
    args = ["report", "--since", "2017-10-30", "--until", "2017-11-02", "--csv", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2017-10-31" in result.output and "3m 00s" in result.output
    assert "50.0%" in result.output  # one of the two answered within 24 h
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert [(r["key"], r["opened"]) for r in rows] == [
        ("2017-10-30", "0"),
        ("2017-10-31", "2"),
        ("2017-11-01", "0"),
    ]
    assert rows[1]["first_response_median_seconds"] == "180"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "week"], "by must be one of"),
        (["--since", "soon"], "since must be a date"),
        (["--workspace", "nope"], "no workspace 'nope'"),
    ],
)
def test_report_refuses_bad_input_in_one_line(
    cli_db: Database, args: list[str], message: str
) -> None:
    make_account(cli_db)  # the default workspace
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 2
    assert message in result.output
