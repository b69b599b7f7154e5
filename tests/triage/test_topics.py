"""A workspace's own topic list: checked as a table, set through both doors (API and
Settings → Topics) with the same rules, and used by the pipeline's triage."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from socialdesk.config import get_settings
from socialdesk.store.models import AuditEntry, Message, Ticket
from socialdesk.triage import DEFAULT_TOPICS
from socialdesk.triage.topics import TopicError, parse_topic_lines, topics_of, validate_topics
from socialdesk.wiring.pipeline import build_pipeline
from tests.api.doors import Desk, desk_fixture
from tests.pipeline.helpers import ingest, post

__all__ = ["desk_fixture"]


@pytest.mark.parametrize(
    ("items", "problem"),
    [
        ([{"name": " ", "keywords": ["x"]}], "topic 1 has no name"),
        ([{"name": "Wifi", "keywords": []}], "needs at least one keyword"),
        ([{"name": "Wifi", "keywords": ["  ", ""]}], "needs at least one keyword"),
        ([{"name": "Wifi", "keywords": "wifi"}], "must be a list"),
        ([{"name": "Wifi", "keywords": ["a"]}, {"name": "WIFI", "keywords": ["b"]}], "twice"),
        ([{"name": "n" * 81, "keywords": ["a"]}], "longer than 80"),
        ([{"name": f"t{i}", "keywords": ["a"]} for i in range(51)], "at most 50 topics"),
    ],
)
def test_a_topic_list_that_cannot_be_used_says_why(
    items: list[dict[str, Any]], problem: str
) -> None:
    with pytest.raises(TopicError, match=problem):
        validate_topics(items)


def test_topics_are_tidied_and_read_from_lines() -> None:
    items = parse_topic_lines("Wi-Fi on board:  WiFi, internet ,wifi\n\nSeats: legroom, seat")
    assert validate_topics(items) == {
        "Wi-Fi on board": ("wifi", "internet"),
        "Seats": ("legroom", "seat"),
    }
    with pytest.raises(TopicError, match="line 1: write it as"):
        parse_topic_lines("no colon here")
    assert topics_of({}) is DEFAULT_TOPICS
    assert topics_of({"triage_topics": {"Seats": ["seat"]}}) == {"Seats": ("seat",)}


def _topic_of(desk: Desk, platform_message_id: str) -> str | None:
    with desk.db.session() as s:
        ticket_id = s.scalar(
            select(Message.ticket_id).where(Message.platform_message_id == platform_message_id)
        )
        return s.scalar(select(Ticket.topic).where(Ticket.id == ticket_id))


def test_both_doors_set_the_list_the_pipeline_labels_with(desk: Desk) -> None:
    wifi = {"name": "Wi-Fi on board", "keywords": ["wifi", "wi-fi", "internet on board"]}
    with desk.api("agent") as api:
        refused = api.put("/triage/topics", json={"topics": [wifi]})
        assert refused.status_code == 403
        shown = api.get("/triage/topics").json()
        assert shown["default"] is True and {t["name"] for t in shown["topics"]} == set(
            DEFAULT_TOPICS
        )
    with desk.api("lead") as api:
        bad = api.put("/triage/topics", json={"topics": [wifi, {**wifi, "name": "WI-FI ON BOARD"}]})
        assert bad.status_code == 422 and "listed twice" in bad.text
        saved = api.put("/triage/topics", json={"topics": [wifi]})
        assert saved.status_code == 200, saved.text
        assert saved.json() == {
            "topics": [{"name": "Wi-Fi on board", "keywords": wifi["keywords"]}],
            "default": False,
        }
    pipeline = build_pipeline(get_settings())  # the product's steps, triage among them
    ingest(
        desk.db,
        post(desk.account_id, "t1", "The wifi on my flight never worked", author="ann"),
        pipeline=pipeline,
    )
    assert _topic_of(desk, "t1") == "Wi-Fi on board"
    # A default topic is no longer offered: the workspace's own list replaced it.
    ingest(
        desk.db,
        post(desk.account_id, "t2", "You lost my luggage again", author="bob"),
        pipeline=pipeline,
    )
    assert _topic_of(desk, "t2") is None
    assert desk.count(AuditEntry, AuditEntry.action == "workspace.topics") == 1

    agent_page = desk.page("agent")
    assert agent_page.get("/settings/topics").status_code == 403
    lead = desk.page("lead")
    page = lead.get("/settings/topics")
    assert page.status_code == 200 and "Wi-Fi on board: wifi, wi-fi" in page.text
    wrong = lead.post("/settings/topics", {"topics": "Seats legroom"})
    assert wrong.status_code == 422 and "write it as" in wrong.text
    twice = lead.post("/settings/topics", {"topics": "Seats: a\nseats: b"})
    assert twice.status_code == 422 and "listed twice" in twice.text  # the action's rule
    ok = lead.post("/settings/topics", {"topics": "Seats: legroom, seat\nWi-Fi on board: wifi"})
    assert ok.status_code == 303
    with desk.api("lead") as api:
        assert [t["name"] for t in api.get("/triage/topics").json()["topics"]] == [
            "Seats",
            "Wi-Fi on board",
        ]
    restored = lead.post("/settings/topics", {"restore": "1"})
    assert restored.status_code == 303
    with desk.api("viewer") as api:
        assert api.get("/triage/topics").json()["default"] is True
    for client in (agent_page, lead):
        client.client.close()
