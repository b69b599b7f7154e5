"""The CLI answers bad input with a message and exit code 2, never a stack trace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.config import reset_settings_cache
from socialdesk.store.db import Database

runner = CliRunner()


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("SOCIALDESK_DATABASE_URL", db.url)
    reset_settings_cache()
    yield db
    reset_settings_cache()


def test_createuser_and_its_errors(cli_db: Database) -> None:
    ok = runner.invoke(
        app,
        [
            "createuser",
            "--email",
            "Lead@Example.com",
            "--password",
            "long enough",
            "--role",
            "lead",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "lead@example.com" in ok.output
    again = runner.invoke(
        app, ["createuser", "--email", "lead@example.com", "--password", "long enough"]
    )
    assert again.exit_code == 2 and "already exists" in again.output
    bad_role = runner.invoke(
        app,
        ["createuser", "--email", "a@example.com", "--password", "long enough", "--role", "boss"],
    )
    assert bad_role.exit_code == 2 and "unknown role" in bad_role.output
    short = runner.invoke(app, ["createuser", "--email", "b@example.com", "--password", "short"])
    assert short.exit_code == 2 and "at least 8" in short.output
    assert "Traceback" not in again.output + bad_role.output + short.output


def test_replay_reports_and_refuses_bad_files(
    cli_db: Database, shared_data: Path, tmp_path: Path
) -> None:
    loaded = runner.invoke(app, ["replay", str(shared_data / "twcs" / "twcs_kaggle_sample.csv")])
    assert loaded.exit_code == 0, loaded.output
    assert "rows loaded" in loaded.output and "tickets created" in loaded.output
    missing = runner.invoke(app, ["replay", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    bad = runner.invoke(app, ["replay", str(wrong)])
    assert bad.exit_code == 2 and "missing column" in bad.output


def test_emulate_unknown_platform() -> None:
    result = runner.invoke(app, ["emulate", "myspace"])
    assert result.exit_code == 2 and "no emulator" in result.output
