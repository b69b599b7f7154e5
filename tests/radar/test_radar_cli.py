"""``socialdesk replay`` ends with the radar's pass over what it loaded;
``socialdesk radar scan`` runs it on demand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.config import reset_settings_cache
from socialdesk.store.db import Database
from socialdesk.store.models import Incident
from tests.radar.airline_week import PEAK, posts, write_csv

runner = CliRunner()


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("SOCIALDESK_DATABASE_URL", db.url)
    reset_settings_cache()
    yield db
    reset_settings_cache()


def test_replay_raises_the_incidents_of_its_history(cli_db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "week.csv", posts())
    loaded = runner.invoke(app, ["replay", str(path)])
    assert loaded.exit_code == 0, loaded.output
    assert "1 incident(s) raised" in loaded.output
    with cli_db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
    assert incident.topic == "Cancelled flight" and incident.raised_at < PEAK
    again = runner.invoke(app, ["radar", "scan", "--since", "2017-11-01T00:00:00"])
    assert again.exit_code == 0, again.output
    assert "0 incident(s) raised" in again.output and "1 updated" in again.output
    bad = runner.invoke(app, ["radar", "scan", "--since", "last tuesday"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
