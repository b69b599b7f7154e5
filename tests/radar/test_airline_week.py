"""Done-means of the crisis radar: on a replayed week of real airline complaints it
raises an incident for the cancellation surge before its peak, and none on the quiet
days; a replay raises the incidents a live desk would have, at the same post."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.triage_step import TriageStep
from socialdesk.radar.scan import scan
from socialdesk.replay.service import replay_twcs
from socialdesk.store.db import Database
from socialdesk.store.models import AuditEntry, Incident, NotificationOutboxEntry
from tests.radar.airline_week import PEAK, START, SURGE_DAY, posts, write_csv

PIPELINE = Pipeline(steps=[TriageStep()])
AFTER = START + timedelta(days=8)


def _incidents(db: Database) -> list[tuple[str, object, object, int]]:
    with db.session() as s:
        return [
            (i.topic, i.started_at, i.raised_at, i.size)
            for i in s.scalars(select(Incident).order_by(Incident.started_at))
        ]


def test_a_cancellation_surge_is_raised_before_its_peak_and_quiet_days_raise_none(
    db: Database, tmp_path: Path, api: object, admin: httpx.Client
) -> None:
    replay_twcs(db, write_csv(tmp_path / "week.csv", posts()), pipeline=PIPELINE)
    result = scan(db, AFTER)
    assert result is not None and len(result.raised) == 1
    r = admin.get("/incidents")
    assert r.status_code == 200, r.text
    [incident] = r.json()
    assert incident["topic"] == "Cancelled flight"
    assert incident["account"]
    assert incident["state"] == "closed"
    raised = incident["raised_at"]
    surge_day = (START + timedelta(days=SURGE_DAY)).date().isoformat()
    assert raised.startswith(surge_day)
    assert raised < PEAK.isoformat()  # before the peak hour began
    assert incident["started_at"] >= (PEAK - timedelta(hours=4)).isoformat()
    assert incident["size"] >= 60
    assert len(incident["sample_posts"]) == 3
    assert all("cancel" in p["body"].lower() for p in incident["sample_posts"])
    detail = admin.get(f"/incidents/{incident['id']}").json()
    assert len(detail["tickets"]) >= 60
    # Found in replayed history long after: recorded, not mailed to anyone.
    with db.session() as s:
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "incident"))
        assert not s.scalars(select(NotificationOutboxEntry)).all()
    # Scanning again raises nothing twice.
    again = scan(db, AFTER)
    assert again is not None and again.raised == []


def test_quiet_weeks_raise_nothing(db: Database, tmp_path: Path) -> None:
    for seed in (1, 2, 3):
        items = [
            (at + timedelta(days=7 * seed), text) for at, text in posts(surge=False, seed=seed)
        ]
        replay_twcs(
            db,
            write_csv(tmp_path / f"q{seed}.csv", items, first_id=seed * 10**6),
            pipeline=PIPELINE,
        )
    scan(db, AFTER + timedelta(days=30))
    assert _incidents(db) == []


def test_replay_raises_what_the_live_desk_would_have_at_the_same_post(
    db: Database, tmp_path: Path, database_url: str
) -> None:
    week = posts()
    # Live: the posts arrive three hours at a time, the radar passing after each.
    chunk_start, n = START, 0
    while chunk_start < START + timedelta(days=7):
        chunk_end = chunk_start + timedelta(hours=3)
        items = [(at, text) for at, text in week if chunk_start <= at < chunk_end]
        if items:
            path = write_csv(tmp_path / f"c{n}.csv", items, first_id=10**6 + n * 1000)
            replay_twcs(db, path, pipeline=PIPELINE)
        scan(db, chunk_end)
        chunk_start, n = chunk_end, n + 1
    live = _incidents(db)
    assert len(live) == 1
    # Replayed at once, afterwards, into an empty desk.
    from tests.conftest import Base  # the same emptying as the db fixture

    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    replay_twcs(db, write_csv(tmp_path / "all.csv", week), pipeline=PIPELINE)
    scan(db, AFTER)
    assert _incidents(db) == live


def test_a_late_post_at_the_start_of_a_surge_moves_its_start_not_the_incident(
    db: Database, tmp_path: Path
) -> None:
    week = posts()
    replay_twcs(db, write_csv(tmp_path / "week.csv", week), pipeline=PIPELINE)
    scan(db, AFTER)
    [(_, started, raised, _)] = _incidents(db)
    # A cancellation complaint delivered late, dated a minute before the first one.
    late = [(started - timedelta(minutes=1), next(t for _, t in week if "cancel" in t.lower()))]
    replay_twcs(db, write_csv(tmp_path / "late.csv", late, first_id=9 * 10**6), pipeline=PIPELINE)
    result = scan(db, AFTER)
    assert result is not None and result.raised == []
    [(_, moved, raised_again, _)] = _incidents(db)
    assert moved <= started and raised_again == raised


def test_the_real_twcs_slices_raise_nothing(db: Database, shared_data: Path) -> None:
    # One evening of many brands (the head file) and a random draw over two months: no
    # account has the hours of history a surge is judged against.
    for name in ("twcs_head_5000.csv", "twcs_random_5000.csv"):
        replay_twcs(db, shared_data / "twcs" / name, pipeline=PIPELINE)
    result = scan(db, AFTER + timedelta(days=3000))
    assert result is not None and result.indexed > 500
    assert _incidents(db) == []


def test_the_worker_runs_the_same_pass(db: Database, tmp_path: Path) -> None:
    from socialdesk.radar.worker import RadarWorker

    replay_twcs(db, write_csv(tmp_path / "week.csv", posts()), pipeline=PIPELINE)
    worker = RadarWorker(db, clock=lambda: AFTER)
    assert worker.run_pass() is False
    assert [topic for topic, *_ in _incidents(db)] == ["Cancelled flight"]
