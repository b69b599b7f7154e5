"""Settings → Failed deliveries: the list with reasons, Retry one and Retry all (CSRF,
admins only), each retry recorded in the audit log."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.config import get_settings
from socialdesk.pipeline.raw_events import RawDelivery, mark_failed, store_raw_events
from socialdesk.store.db import Database
from socialdesk.store.models import AuditEntry, RawEvent
from socialdesk.web.app import create_app
from tests.web.test_pages import app_db, sign_in

__all__ = ["app_db"]


@pytest.fixture
def failed(app_db: Database) -> list[int]:
    bodies = [json.dumps({"for_user_id": "1", "n": n}) for n in range(3)]
    with app_db.write() as s:
        conn = s.connection()
        ids = store_raw_events(conn, [RawDelivery("hooks:x", b) for b in bodies])
        for n, raw_id in enumerate(ids):
            mark_failed(conn, raw_id, f"payload: tweet timestamp_ms: time #{n} is out of range")
    return ids


@pytest.fixture
def admin(app_db: Database) -> Iterator[tuple[TestClient, str]]:
    with TestClient(create_app(get_settings(), app_db), follow_redirects=False) as c:
        yield c, sign_in(c, "admin@example.com")


def status_of(db: Database, raw_id: int) -> str:
    with db.session() as s:
        return s.get_one(RawEvent, raw_id).status


def test_failed_deliveries_are_listed_and_retried(
    app_db: Database, failed: list[int], admin: tuple[TestClient, str]
) -> None:
    c, token = admin
    page = c.get("/settings/deliveries")
    assert page.status_code == 200
    for n, raw_id in enumerate(failed):
        assert f"time #{n} is out of range" in page.text
        assert f'aria-label="Retry delivery {raw_id}"' in page.text
    assert "Retry all 3" in page.text
    assert 'aria-current="page">Failed deliveries' in page.text

    refused = c.post("/settings/deliveries/retry", data={"raw_event_id": failed[0]})
    assert refused.status_code == 403 and status_of(app_db, failed[0]) == "failed"

    one = c.post(
        "/settings/deliveries/retry", data={"csrf_token": token, "raw_event_id": failed[0]}
    )
    assert one.status_code == 303 and one.headers["location"] == "/settings/deliveries?retried=1"
    assert status_of(app_db, failed[0]) != "failed"
    assert "1 delivery queued again" in c.get(one.headers["location"]).text

    gone = c.post("/settings/deliveries/retry", data={"csrf_token": token, "raw_event_id": 999999})
    assert gone.status_code == 404

    rest = c.post("/settings/deliveries/retry", data={"csrf_token": token})
    assert rest.headers["location"] == "/settings/deliveries?retried=2"
    with app_db.session() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "raw_event.retried")
        ).all()
    assert sorted(e.data["count"] for e in entries) == [1, 2]
    assert all(e.actor_user_id is not None for e in entries)
