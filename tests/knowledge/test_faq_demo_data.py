"""The FAQ finder on the demo's data: the replayed Twitter history (what `socialdesk demo`
loads) yields clusters of questions many customers asked, each with its examples and a
draft from the brand's own replies."""

from __future__ import annotations

import time
from pathlib import Path

from socialdesk.knowledge.faq_report import draft_from, frequent_questions
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.replay.service import replay_twcs
from socialdesk.store.db import Database
from socialdesk.store.models import Workspace


def test_replayed_history_yields_top_clusters(db: Database, shared_data: Path) -> None:
    replay_twcs(db, shared_data / "twcs" / "twcs_head_5000.csv", pipeline=Pipeline())
    with db.session() as s:
        workspaces = [w.id for w in s.query(Workspace)]
        started = time.perf_counter()
        report = frequent_questions(s, workspaces, limit=10)
        elapsed = time.perf_counter() - started
        assert report.questions > 1000 and not report.capped
        assert elapsed < 10, elapsed
        clusters = report.clusters
        assert len(clusters) == 10
        assert clusters[0].volume >= 10, [(c.label, c.volume) for c in clusters]
        assert all(c.label and len(c.examples) == 3 for c in clusters)
        drafts = [draft_from(s, c) for c in clusters[:3]]
        assert all(d.title for d in drafts)
        assert any(d.answers for d in drafts)
        print([(c.label, c.volume) for c in clusters], elapsed)
