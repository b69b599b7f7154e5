"""The triage labels are in the API: ticket list and detail, each message, the agent's PATCH."""

from __future__ import annotations

import httpx

from socialdesk.config import Settings
from socialdesk.wiring.pipeline import build_pipeline
from tests.api.conftest import Api
from tests.pipeline.helpers import ingest, make_account, post


def test_tickets_and_messages_carry_their_triage(api: Api, agent: httpx.Client) -> None:
    x = make_account(api.db)
    ingest(
        api.db,
        post(x, "t1", "@AcmeSupport my flight was cancelled and I lost my luggage!!"),
        pipeline=build_pipeline(Settings()),
    )
    listed = agent.get("/tickets", params={"status": "unsolved"})
    assert listed.status_code == 200, listed.text
    (summary,) = listed.json()["data"]
    assert summary["sentiment_label"] == "negative"
    assert summary["intent"] == "complaint"
    assert isinstance(summary["urgency"], int) and summary["urgency"] > 0
    detail = agent.get(f"/tickets/{summary['id']}").json()
    assert detail["sentiment_label"] == "negative" and detail["urgency"] == summary["urgency"]
    (message,) = detail["messages"]
    triage = message["triage"]
    assert triage["sentiment"] == "negative" and triage["intent"] == "complaint"
    assert triage["urgency"] == summary["urgency"]
    assert "negativity" in [signal["name"] for signal in triage["signals"]]
    assert triage["language"] == "en"

    # An agent's label shows at once and stays over the machine's.
    patched = agent.patch(
        f"/tickets/{summary['id']}", json={"intent": "feedback", "topic": "Lost luggage"}
    )
    assert patched.status_code == 200, patched.text
    again = agent.get(f"/tickets/{summary['id']}").json()
    assert again["intent"] == "feedback" and again["topic"] == "Lost luggage"
    refused = agent.patch(f"/tickets/{summary['id']}", json={"sentiment": "furious"})
    assert refused.status_code == 422


def test_tickets_filter_by_triage(api: Api, agent: httpx.Client) -> None:
    x = make_account(api.db)
    pipeline = build_pipeline(Settings())
    ingest(
        api.db,
        post(x, "a1", "@AcmeSupport my parcel never arrived, this is awful!!", author="1"),
        pipeline=pipeline,
    )
    ingest(
        api.db,
        post(x, "b1", "@AcmeSupport do you have the blue jacket in size M?", author="2"),
        pipeline=pipeline,
    )

    def ids(**params: object) -> list[str]:
        r = agent.get("/tickets", params={"status": "unsolved", **params})
        assert r.status_code == 200, r.text
        return [t["subject"] for t in r.json()["data"]]

    assert len(ids()) == 2
    (angry,) = ids(sentiment="negative")
    assert "parcel" in angry
    (asking,) = ids(intent="question")
    assert "jacket" in asking
    assert ids(intent="complaint,question", sentiment="negative,neutral,positive")
    assert ids(topic="Delivery") == [angry]
    urgent = agent.get("/tickets", params={"status": "unsolved"}).json()["data"]
    top = max(t["urgency"] for t in urgent)
    assert ids(min_urgency=top) and all(
        t["urgency"] >= top
        for t in agent.get("/tickets", params={"min_urgency": top}).json()["data"]
    )
    for params in ({"sentiment": "furious"}, {"intent": "rant"}, {"min_urgency": 101}):
        refused = agent.get("/tickets", params=params)
        assert refused.status_code == 422, refused.text
