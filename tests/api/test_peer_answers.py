"""Peer answers end to end on the X emulator: a customer asks in public, a fan answers
under the customer's tweet, another says "me too", the brand replies; the webhook
deliveries go through the pipeline, the fan's answer alone is recorded, shown by the
API, listed per period, counted by the reports, and thanked under the fan's tweet."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.config import Settings
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database
from socialdesk.store.models import AuditEntry, LiveFeedEntry, Message, TicketEvent
from tests.delivery.helpers import admin_api, connect_x_brand, eventually

__all__ = ["admin_api"]  # a pytest fixture

SECRET = "peer-answer-consumer-secret"


def _tweet(x: httpx.Client, who: str, text: str, parent: str | None = None) -> str:
    body: dict[str, Any] = {"customer": {"username": who}, "text": text}
    if parent:
        body["in_reply_to_tweet_id"] = parent
    r = x.post("/_emulator/customer/mention", json=body)
    assert r.status_code < 300, r.text
    return str(r.json()["tweet"]["id_str"])


def test_a_fan_answering_in_public_is_recorded_shown_counted_and_thanked(
    db: Database, admin_api: Callable[[Settings], tuple[str, httpx.Client]]
) -> None:
    with (
        serve_app(create_x_emulator(SECRET, retry_delay_seconds=0.05)) as x_url,
        httpx.Client(base_url=x_url) as x,
    ):
        connect_x_brand(x, db)
        url, api = admin_api(Settings(x_consumer_secret=SECRET, x_api_base_url=x_url))
        x.put("/_emulator/webhook", json={"url": url + "/hooks/x"})
        question = _tweet(
            x, "sam_k", "@AcmeSupport my flight was cancelled, how do I rebook without paying?"
        )
        tid = eventually(lambda: _ticket_of(db, question))
        _tweet(x, "rita_r", "@sam_k me too, same problem!!", question)
        answer = _tweet(
            x,
            "frequent_flyer",
            "@sam_k you can rebook free in the app under My Trips, worked for me yesterday",
            question,
        )
        eventually(lambda: _count(db, tid) == 3)

        detail = api.get(f"/tickets/{tid}").json()
        (found,) = detail["peer_answers"]
        assert found["fan_handle"] == "frequent_flyer"
        assert found["message_id"] == _message_id(db, answer)
        assert found["question_message_id"] == _message_id(db, question)
        assert 0.5 <= found["score"] <= 1

        with db.session() as s:
            kinds = s.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == tid)).all()
            assert "peer_answered" in kinds
            assert s.scalar(select(func.count()).where(AuditEntry.action == "ticket.peer_answered"))
            assert s.scalar(
                select(func.count()).where(
                    LiveFeedEntry.kind == "ticket.updated",
                    LiveFeedEntry.data["change"].as_string() == "peer_answered",
                )
            )

        now = datetime.now(UTC)
        listed = api.get(
            "/peer-answers",
            params={
                "since": (now - timedelta(hours=1)).isoformat(),
                "until": (now + timedelta(hours=1)).isoformat(),
            },
        )
        assert listed.status_code == 200, listed.text
        assert [a["id"] for a in listed.json()] == [found["id"]]
        later = api.get("/peer-answers", params={"since": (now + timedelta(hours=1)).isoformat()})
        assert later.json() == []
        assert api.get("/peer-answers", params={"since": "2026-01-01T00:00:00"}).status_code == 400
        assert (
            api.get(
                "/peer-answers",
                params={"since": now.isoformat(), "until": now.isoformat()},
            ).status_code
            == 400
        )

        overview = api.get("/reports/overview", params={"period": "7d"})
        assert overview.status_code == 200, overview.text
        assert overview.json()["totals"]["peer_answers"] == 1

        thanked = api.post(f"/tickets/{tid}/peer-answers/{found['id']}/thank", json={})
        assert thanked.status_code == 201, thanked.text
        assert thanked.json()["body"].startswith("@frequent_flyer thank you")

        def posted() -> list[dict[str, Any]]:
            return [e for e in x.get("/_emulator/sent").json() if e["endpoint"] == "POST /2/tweets"]

        (sent,) = eventually(posted)
        assert sent["body"]["reply"]["in_reply_to_tweet_id"] == answer
        assert api.post(f"/tickets/{tid}/peer-answers/999/thank", json={}).status_code == 404


def _ticket_of(db: Database, platform_id: str) -> int | None:
    with db.session() as s:
        return s.scalar(select(Message.ticket_id).where(Message.platform_message_id == platform_id))


def _message_id(db: Database, platform_id: str) -> int | None:
    with db.session() as s:
        return s.scalar(select(Message.id).where(Message.platform_message_id == platform_id))


def _count(db: Database, ticket_id: int) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).where(Message.ticket_id == ticket_id)) or 0


def test_peer_answers_query_is_bounded(
    db: Database, admin_api: Callable[[Settings], tuple[str, httpx.Client]]
) -> None:
    _, api = admin_api(Settings())
    assert api.get("/peer-answers", params={"limit": 0}).status_code == 422
    assert api.get("/peer-answers", params={"workspace_id": 99}).status_code == 403
    assert api.get("/peer-answers").json() == []
