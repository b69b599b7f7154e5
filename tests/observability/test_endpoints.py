"""/healthz, /readyz and /metrics over real HTTP on the real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.channels.signatures import x_signature
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform
from socialdesk.store.db import Database
from socialdesk.store.models import Ticket
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from tests.conftest import BACKEND
from tests.delivery.helpers import eventually

X_SECRET = "observability_consumer_secret"
BRAND_X_ID = "4040404040"
# The app without its workers: the test runs the raw-event worker's pass itself.
QUIET = {"run_workers": False, "live_relay_seconds": 0}


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: httpx.Client, **headers: str) -> Samples:
    """GET /metrics, parsed: (sample name, sorted labels) → value."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return float(samples.get((name, tuple(sorted(labels.items()))), 0.0))


def unreachable_url(tmp_path: Path) -> str:
    if BACKEND == "postgresql":
        return "postgresql://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1
    return f"sqlite:///{tmp_path / 'no-such-dir' / 'socialdesk.db'}"


@pytest.fixture
def served(db: Database) -> Iterator[httpx.Client]:
    with (
        serve(create_app(Settings(x_consumer_secret=X_SECRET), db)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield client


def test_healthz_answers_without_the_database(tmp_path: Path) -> None:
    dead = Database(unreachable_url(tmp_path))
    try:
        with (
            serve(create_app(Settings(**QUIET), dead)) as url,
            httpx.Client(base_url=url, timeout=30) as client,
        ):
            live = client.get("/healthz")
            assert live.status_code == 200 and live.json()["status"] == "ok"
            ready = client.get("/readyz")
            assert ready.status_code == 503
            body = ready.json()
            assert body["status"] == "not ready" and body["checks"]["database"] == "unreachable"
            assert body["reasons"][0].startswith("database unreachable")
            # The metrics still answer, saying the database is down.
            samples = scrape(client)
            assert value(samples, "socialdesk_database_up") == 0
            assert ("socialdesk_outbox", (("state", "queued"),)) not in samples
    finally:
        dead.dispose()


def test_readyz_is_ready_with_the_database_and_workers_running(served: httpx.Client) -> None:
    ready = served.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready" and body["reasons"] == []
    assert body["checks"]["database"] == "ok" and body["checks"]["migrations"] == "ok"
    for worker in ("raw-event-worker", "delivery", "sla-scan", "live-relay"):
        assert body["checks"][f"worker:{worker}"] == "ok"


def test_readyz_refuses_a_database_that_was_never_migrated(tmp_path: Path) -> None:
    if BACKEND == "postgresql":
        import psycopg

        name = f"socialdesk_unmigrated_{tmp_path.name[-8:].lower()}"
        admin = "postgresql://postgres@127.0.0.1:5432/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    else:
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    empty = Database(url)
    try:
        with (
            serve(create_app(Settings(**QUIET), empty)) as base,
            httpx.Client(base_url=base, timeout=30) as client,
        ):
            ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "ok", "migrations": "behind"}
        assert "socialdesk migrate" in ready.json()["reasons"][0]
    finally:
        empty.dispose()
        if BACKEND == "postgresql":
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def test_metrics_are_guarded_as_documented(db: Database) -> None:
    def status(settings: Settings, **headers: str) -> int:
        with (
            serve(create_app(settings, db)) as url,
            httpx.Client(base_url=url, timeout=30) as client,
        ):
            response = client.get("/metrics", headers=headers)
            if response.status_code != 200:
                assert response.json()["error"]["status"] == response.status_code
            return response.status_code

    assert status(Settings(**QUIET)) == 200  # loopback, no token: the default
    assert status(Settings(**QUIET), **{"X-Forwarded-For": "203.0.113.9"}) == 403
    assert status(Settings(metrics_allow="10.0.0.0/8", **QUIET)) == 403
    token = Settings(metrics_token="scrape-me", **QUIET)
    assert status(token) == 401
    assert status(token, Authorization="Bearer nope") == 401
    assert status(token, Authorization="Bearer scrape-me") == 200
    # Scraped from anywhere, through a proxy: the token is what lets it in.
    anywhere = Settings(metrics_token="scrape-me", metrics_allow="0.0.0.0/0,::/0", **QUIET)
    assert status(anywhere, **{"X-Forwarded-For": "198.51.100.7"}) == 401
    assert (
        status(anywhere, Authorization="Bearer scrape-me", **{"X-Forwarded-For": "1.2.3.4"}) == 200
    )


def test_a_signed_webhook_moves_the_numbers(db: Database) -> None:
    with db.write() as s:
        create_channel_account(
            s,
            None,
            workspace_id=ensure_workspace(s).id,
            platform=Platform.X,
            handle="AcmeSupport",
            external_id=BRAND_X_ID,
        )
    app = create_app(Settings(x_consumer_secret=X_SECRET, **QUIET), db)
    body = json.dumps(
        {
            "for_user_id": BRAND_X_ID,
            "tweet_create_events": [
                {
                    "id_str": "777001",
                    "text": "@AcmeSupport where is my parcel?",
                    "created_at": "Tue Oct 31 22:10:47 +0000 2017",
                    "timestamp_ms": "1509487847000",
                    "user": {"id_str": "9911", "screen_name": "cust", "name": "Cust"},
                    "entities": {"user_mentions": [{"id_str": BRAND_X_ID}]},
                }
            ],
        }
    ).encode()
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        before = scrape(client)
        bad = client.post(
            "/hooks/x", content=body, headers={"x-twitter-webhooks-signature": "sha256=AAAA"}
        )
        assert bad.status_code in (401, 403)
        good = client.post(
            "/hooks/x",
            content=body,
            headers={
                "content-type": "application/json",
                "x-twitter-webhooks-signature": x_signature(X_SECRET, body),
            },
        )
        assert good.status_code == 200, good.text
        waiting = scrape(client)

        app.state.raw_event_worker.run_pass()  # the worker's pass, here and now
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(Ticket)) == 1
        after = scrape(client)

    def moved(samples: Samples, name: str, **labels: str) -> float:
        return value(samples, name, **labels) - value(before, name, **labels)

    assert moved(waiting, "socialdesk_webhook_requests_total", source="x", outcome="stored") == 1
    assert moved(waiting, "socialdesk_webhook_requests_total", source="x", outcome="rejected") == 1
    assert moved(waiting, "socialdesk_webhook_ack_seconds_count", source="x") == 1
    target = "spool" if db.inbox_spool is not None else "raw_events"
    assert moved(waiting, "socialdesk_webhook_deliveries_committed_total", target=target) == 1
    pending = value(waiting, "socialdesk_raw_events", state="pending") + value(
        waiting, "socialdesk_webhook_spool_pending"
    )
    assert pending == 1
    assert value(after, "socialdesk_raw_events", state="pending") == 0
    assert value(after, "socialdesk_webhook_spool_pending") == 0
    assert value(after, "socialdesk_worker_lag_seconds", queue="raw_events") == 0
    assert value(after, "socialdesk_database_up") == 1
    for state in ("queued", "sending", "failed"):
        assert ("socialdesk_outbox", (("state", state),)) in after
    assert ("socialdesk_live_subscribers", ()) in after


def test_a_worker_process_serves_its_own_health_and_metrics(db: Database) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "SOCIALDESK_DATABASE_URL": db.url, "SOCIALDESK_LOG_FORMAT": "json"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "socialdesk.cli", "worker", "--metrics-port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert worker.poll() is None, "the worker process ended"
                assert time.monotonic() < deadline, "the worker's health port never answered"
                time.sleep(0.2)
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            checks = ready.json()["checks"]
            assert {"worker:delivery", "worker:raw-event-worker", "worker:sla-scan"} <= set(checks)
            assert "worker:live-relay" not in checks  # a worker process serves no pages

            def passes() -> Samples | None:
                samples = scrape(client)
                name = "socialdesk_worker_passes_total"
                ok = value(samples, name, worker="raw-event-worker", outcome="ok")
                return samples if ok > 0 else None

            samples = eventually(passes)  # the raw-event worker passes four times a second
            assert value(samples, "socialdesk_database_up") == 1
    finally:
        worker.terminate()
        _, stderr = worker.communicate(timeout=20)
    # Its log lines are JSON, each with the id fields.
    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    assert lines and all("request_id" in line for line in lines)
