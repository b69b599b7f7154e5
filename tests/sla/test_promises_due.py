"""An unkept promise puts its ticket back in the queue: through the periodic worker and
the API, on the real database."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from socialdesk.automation.periodic_scan import SlaScanWorker
from socialdesk.config import Settings
from socialdesk.store.db import utcnow
from socialdesk.store.models import NotificationOutboxEntry
from socialdesk.wiring.pipeline import build_pipeline
from tests.api.conftest import Api
from tests.pipeline.helpers import ingest, make_account, post
from tests.sla.helpers import add_policy, events_of


def _ids(client: httpx.Client, view: str) -> list[int]:
    r = client.get("/tickets", params={"view": view})
    assert r.status_code == 200, r.text
    return [t["id"] for t in r.json()["data"]]


def test_an_unkept_promise_reopens_notifies_and_lists(api: Api, agent: httpx.Client) -> None:
    add_policy(api.db, calendar=None)
    acct = make_account(api.db)
    ingest(api.db, post(acct, "1", "my parcel never came"), pipeline=build_pipeline(Settings()))
    [ticket_id] = _ids(agent, "needs_reply")
    r = agent.post(
        f"/tickets/{ticket_id}/replies",
        json={"body": "So sorry! I'll get back to you in an hour with the courier's answer."},
    )
    assert r.status_code < 300, r.text
    ticket = agent.get(f"/tickets/{ticket_id}").json()
    assert (ticket["status"], ticket["needs_reply"]) == ("pending", False)
    assert _ids(agent, "needs_reply") == [] and _ids(agent, "promises_due") == []

    # Not due yet: nothing happens.
    assert SlaScanWorker(api.db, clock=lambda: utcnow() + timedelta(minutes=30)).run_once() == 0
    assert agent.get(f"/tickets/{ticket_id}").json()["status"] == "pending"

    later = SlaScanWorker(api.db, clock=lambda: utcnow() + timedelta(minutes=61))
    later.run_once()
    ticket = agent.get(f"/tickets/{ticket_id}").json()
    assert (ticket["status"], ticket["needs_reply"]) == ("open", True)
    events = agent.get(f"/tickets/{ticket_id}/events").json()
    due = [e for e in events if e["kind"] == "follow_up_due"]
    assert len(due) == 1 and due[0]["data"]["phrase"].startswith("I'll get back to you")
    assert {"from": "pending", "to": "open", "reason": "follow_up_due"} in [
        e["data"] for e in events if e["kind"] == "status_changed"
    ]
    # The clocks: paused resolution resumes, a next-response clock starts at the due time.
    sla = [(k, d.get("target")) for k, d in events_of(api.db, ticket_id)]
    assert ("sla_resumed", "resolution") in sla and ("sla_started", "next_response") in sla
    [follow_up] = agent.get("/follow-ups").json()
    assert follow_up["overdue"] is True and follow_up["overdue_at"] is not None
    assert _ids(agent, "promises_due") == [ticket_id]
    assert _ids(agent, "needs_reply") == [ticket_id]
    # The promiser is told, in the app and by e-mail (the notification outbox).
    [note] = [n for n in agent.get("/notifications").json() if n["kind"] == "follow_up_due"]
    assert note["ticket_id"] == ticket_id and "still waiting" in note["body"]
    with api.db.session() as s:
        mails = s.scalars(
            select(NotificationOutboxEntry).where(NotificationOutboxEntry.ticket_id == ticket_id)
        ).all()
    assert [m.recipients for m in mails] == [["agent@example.com"]]
    assert mails[0].subject.startswith("[socialdesk] Promise due:")

    # Once only: another pass records and sends nothing more.
    later.run_once()
    events = agent.get(f"/tickets/{ticket_id}/events").json()
    assert [e["kind"] for e in events].count("follow_up_due") == 1
    assert len([n for n in agent.get("/notifications").json() if n["kind"] == "follow_up_due"]) == 1

    # Keeping the promise takes it off the list.
    r = agent.post(
        f"/tickets/{ticket_id}/replies", json={"body": "The courier found it.", "confirm": True}
    )
    assert r.status_code < 300, r.text
    assert _ids(agent, "promises_due") == [] and _ids(agent, "needs_reply") == []


def test_a_promise_on_a_closed_ticket_is_marked_but_changes_nothing(
    api: Api, agent: httpx.Client, admin: httpx.Client
) -> None:
    acct = make_account(api.db)
    ingest(api.db, post(acct, "1", "where is my refund"))
    [ticket_id] = _ids(agent, "needs_reply")
    agent.post(f"/tickets/{ticket_id}/replies", json={"body": "I'll check and DM you tomorrow"})
    assert agent.patch(f"/tickets/{ticket_id}", json={"status": "closed"}).status_code == 200
    SlaScanWorker(api.db, clock=lambda: utcnow() + timedelta(days=2)).run_once()
    assert agent.get(f"/tickets/{ticket_id}").json()["status"] == "closed"
    kinds = [e["kind"] for e in agent.get(f"/tickets/{ticket_id}/events").json()]
    assert "follow_up_due" not in kinds
    assert agent.get("/follow-ups").json() == []  # cancelled: it can no longer be kept
    assert [f["ticket_id"] for f in agent.get("/follow-ups?status=cancelled").json()] == [ticket_id]
    assert _ids(agent, "promises_due") == []
