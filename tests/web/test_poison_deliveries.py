"""A poison delivery between good ones, over real HTTP: the good ones become tickets,
the poison one is listed with its reason for admins and can be retried; nothing
acknowledged goes missing (acknowledged = stored as messages or listed as failed)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.channels.base import ParsedEvent
from socialdesk.channels.signatures import meta_signature, x_signature
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, RawEventStatus, Role
from socialdesk.store.db import Database
from socialdesk.store.models import AuditEntry, Message, RawEvent
from socialdesk.web import hooks as hook_routes
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve

X_SECRET = "test_consumer_secret"
META_SECRET = "test_app_secret"
BRAND_X_ID = "2244994945"
PAGE_ID = "1029384756"
PASSWORD = "correct horse battery"
POISON_MS = "99999999999999999999"


@dataclass
class Desk:
    client: httpx.Client
    db: Database
    app: Any
    admin: str
    agent: str


@pytest.fixture
def desk(db: Database) -> Iterator[Desk]:
    with db.write() as s:
        ws = ensure_workspace(s)
        create_channel_account(
            s, None, workspace_id=ws.id, platform=Platform.X, handle="Acme", external_id=BRAND_X_ID
        )
        create_channel_account(
            s,
            None,
            workspace_id=ws.id,
            platform=Platform.FACEBOOK,
            handle="Acme",
            external_id=PAGE_ID,
        )
        create_user(s, "admin@example.com", PASSWORD, Role.ADMIN, name="Admin", workspace=ws)
        create_user(s, "agent@example.com", PASSWORD, Role.AGENT, name="Agent", workspace=ws)
    settings = Settings(
        x_consumer_secret=X_SECRET, meta_app_secret=META_SECRET, meta_verify_token="verify-me"
    )
    app = create_app(settings, db)
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        tokens = []
        for email in ("admin@example.com", "agent@example.com"):
            r = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
            assert r.status_code == 200, r.text
            tokens.append(r.json()["access_token"])
        yield Desk(client, db, app, *tokens)


def tweet(tweet_id: str, text: str, timestamp_ms: str = "1509487847000") -> dict[str, Any]:
    return {
        "id_str": tweet_id,
        "text": text,
        "timestamp_ms": timestamp_ms,
        "user": {"id_str": f"9{tweet_id}", "screen_name": f"user{tweet_id}"},
        "in_reply_to_status_id_str": None,
    }


def post_x(desk: Desk, *tweets: dict[str, Any]) -> httpx.Response:
    body = json.dumps({"for_user_id": BRAND_X_ID, "tweet_create_events": list(tweets)}).encode()
    headers = {"x-twitter-webhooks-signature": x_signature(X_SECRET, body)}
    return desk.client.post("/hooks/x", content=body, headers=headers)


def comment(comment_id: str, text: str) -> dict[str, Any]:
    """A feed comment without ``created_time``: its time is the entry's."""
    return {
        "field": "feed",
        "value": {
            "item": "comment",
            "verb": "add",
            "comment_id": f"{PAGE_ID}_{comment_id}",
            "post_id": f"{PAGE_ID}_1",
            "message": text,
            "from": {"id": f"5{comment_id}", "name": "Ana"},
        },
    }


def post_meta(desk: Desk, entry_time: object, *changes: dict[str, Any]) -> httpx.Response:
    payload = {
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": entry_time, "changes": list(changes)}],
    }
    body = json.dumps(payload).encode()
    headers = {"X-Hub-Signature-256": meta_signature(META_SECRET, body)}
    return desk.client.post("/hooks/meta", content=body, headers=headers)


def settled(db: Database, deliveries: int) -> dict[str, int]:
    """Raw events by status once every delivery has left ``pending`` (waits a minute at
    most: a loaded machine, not a speed requirement)."""
    deadline = time.monotonic() + 60
    while True:
        with db.session() as s:
            rows = s.execute(select(RawEvent.status, func.count()).group_by(RawEvent.status))
            counts = {str(status): int(n) for status, n in rows}
            # Deliveries moved out of the inbox spool (not the events split off them).
            moved = s.scalar(
                select(func.count()).select_from(RawEvent).where(RawEvent.split_from_id.is_(None))
            )
        waiting = counts.get("pending", 0)
        if (moved == deliveries and not waiting) or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)


def bodies(db: Database) -> set[str]:
    with db.session() as s:
        return set(s.scalars(select(Message.body)))


def failed_listing(desk: Desk, token: str | None = None) -> httpx.Response:
    return desk.client.get(
        "/api/v1/raw-events",
        params={"status": "failed"},
        headers={"Authorization": f"Bearer {token or desk.admin}"},
    )


def test_poison_deliveries_between_good_ones_cost_nothing(desk: Desk) -> None:
    acknowledged = [
        post_x(desk, tweet("101", "first good tweet")),
        post_x(desk, tweet("102", "poison tweet", POISON_MS)),
        post_meta(desk, 1509487847, comment("201", "first good comment")),
        post_meta(desk, 1e30, comment("202", "poison comment")),
        post_x(desk, tweet("103", "second good tweet")),
        # One delivery, one bad event: its neighbour still becomes a message.
        post_x(desk, tweet("104", "good neighbour"), tweet("105", "bad neighbour", POISON_MS)),
        post_meta(desk, 1509487900, comment("203", "second good comment")),
    ]
    assert [r.status_code for r in acknowledged] == [200] * len(acknowledged)

    counts = settled(desk.db, len(acknowledged))
    good = {
        "first good tweet",
        "second good tweet",
        "good neighbour",
        "first good comment",
        "second good comment",
    }
    assert bodies(desk.db) == good
    # 7 deliveries: 5 processed (the mixed one included), 2 failed, plus the bad
    # neighbour kept as a failed raw event of its own.
    assert counts == {"processed": 5, "failed": 3}

    listed = failed_listing(desk)
    assert listed.status_code == 200, listed.text
    failed = listed.json()["data"]
    assert listed.json()["total"] == 3
    assert {f["source"] for f in failed} == {"hooks:x", "hooks:meta"}
    for item in failed:
        assert "out of range" in item["reason"], item
        assert item["attempts"] == 1
        assert "body" not in item and "headers" not in item
    split = [f for f in failed if f["split_from_id"] is not None]
    assert len(split) == 1 and "99999999999999999999" in split[0]["reason"]
    # Every acknowledged post is a message or listed as failed: none silently missing.
    assert len(bodies(desk.db)) + len(failed) == 8


def test_failed_listing_is_for_admins_only(desk: Desk) -> None:
    assert failed_listing(desk, desk.agent).status_code == 403
    retry = desk.client.post(
        "/api/v1/raw-events/retry", headers={"Authorization": f"Bearer {desk.agent}"}
    )
    assert retry.status_code == 403
    missing = desk.client.post(
        "/api/v1/raw-events/999999/retry", headers={"Authorization": f"Bearer {desk.admin}"}
    )
    assert missing.status_code == 404
    assert "no raw event" in missing.json()["error"]["reason"]
    bad_status = desk.client.get(
        "/api/v1/raw-events",
        params={"status": "bogus"},
        headers={"Authorization": f"Bearer {desk.admin}"},
    )
    assert bad_status.status_code == 422


def test_a_failed_delivery_is_retried_after_the_fix(desk: Desk) -> None:
    """A parser bug (an exception no payload check foresaw) fails the delivery with its
    reason; once fixed, a retry through the API turns it into a ticket."""
    worker = desk.app.state.raw_event_worker
    fixed = worker.parsers[hook_routes.X_SOURCE]

    def buggy(raw_body: bytes, resolve: Any, received_at: Any = None) -> ParsedEvent:
        if b"emoji" in raw_body:
            raise KeyError("flags")
        return fixed(raw_body, resolve, received_at)

    worker.parsers[hook_routes.X_SOURCE] = buggy
    assert post_x(desk, tweet("301", "plain tweet")).status_code == 200
    assert post_x(desk, tweet("302", "emoji tweet")).status_code == 200
    assert settled(desk.db, 2) == {"processed": 1, "failed": 1}
    [item] = failed_listing(desk).json()["data"]
    assert item["reason"] == "KeyError: 'flags'"

    worker.parsers[hook_routes.X_SOURCE] = fixed  # the fix is deployed
    auth = {"Authorization": f"Bearer {desk.admin}"}
    r = desk.client.post(f"/api/v1/raw-events/{item['id']}/retry", headers=auth)
    assert r.status_code == 200 and r.json() == {"retried": [item["id"]], "count": 1}
    again = desk.client.post(f"/api/v1/raw-events/{item['id']}/retry", headers=auth)
    assert again.status_code in (200, 409)  # 409 while pending; processed by then is fine too
    assert settled(desk.db, 2) == {"processed": 2}
    assert bodies(desk.db) == {"plain tweet", "emoji tweet"}
    assert failed_listing(desk).json()["data"] == []
    with desk.db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "raw_event.retried")).one()
        assert entry.object_id == item["id"] and entry.workspace_id is not None
        assert entry.actor_user_id is not None
        assert s.get(RawEvent, item["id"]).status == RawEventStatus.PROCESSED  # type: ignore[union-attr]
