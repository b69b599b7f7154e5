"""A running demo on the test database: the emulators, the connected accounts, the desk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from socialdesk.cli_demo import DEMO_PASSWORD, DemoSession, prepare_demo, running_demo
from socialdesk.config import Settings
from socialdesk.replay.service import replay_twcs
from socialdesk.store.db import Database, utcnow
from socialdesk.wiring.pipeline import build_pipeline


@pytest.fixture
def data_dir(shared_data: Path, tmp_path: Path) -> Path:
    """The shared data with only the small twcs file, so the demo loads in seconds."""
    data = tmp_path / "data"
    (data / "twcs").mkdir(parents=True)
    (data / "twcs" / "twcs_kaggle_sample.csv").symlink_to(
        shared_data / "twcs" / "twcs_kaggle_sample.csv"
    )
    for name in ("tweetsumm", "banking77"):
        (data / name).symlink_to(shared_data / name)
    return data


@pytest.fixture
def demo(db: Database, data_dir: Path, tmp_path: Path) -> Iterator[DemoSession]:
    prepare_demo(db)
    replay_twcs(
        db,
        data_dir / "twcs" / "twcs_kaggle_sample.csv",
        pipeline=build_pipeline(Settings()),
        end_at=utcnow(),
    )
    with running_demo(
        db, Settings(), "127.0.0.1", 0, data_dir, tmp_path / "socialdesk-demo.json"
    ) as session:
        yield session


def signed_in_api(session: DemoSession, email: str) -> httpx.Client:
    client = httpx.Client(base_url=session.url + "/api/v1", timeout=20)
    login = {"email": email, "password": DEMO_PASSWORD}
    client.headers["Authorization"] = (
        "Bearer " + client.post("/auth/token", json=login).json()["access_token"]
    )
    return client
