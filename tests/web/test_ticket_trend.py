"""Issue 14's ticket surfaces: the customer's sentiment trend and the crisis radar's
incidents, on the ticket API (``triage_trend``, ``incident_ids``) and the conversation
page (customer panel, incident banner)."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.triage_step import TriageStep
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import Incident, IncidentTicket, Message, Ticket
from socialdesk.triage.trend import trend_of
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_pages import PASSWORD, app_db, client, sign_in

__all__ = ["app_db", "client"]

ANGRIER = [
    "Hi, quick question about my booking, thanks!",
    "Still no answer. This is getting annoying.",
    "This is ridiculous, the worst service ever. I am furious and want a refund NOW!",
]


def _thread(db: Database, bodies: list[str], author: str = "sarah") -> int:
    account = make_account(db)
    previous = None
    messages = []
    for i, body in enumerate(bodies):
        messages.append(post(account, f"{author}{i}", body, author=author, minutes=i * 10,
                             reply_to=previous))  # fmt: skip
        previous = f"{author}{i}"
    ingest(db, *messages, pipeline=Pipeline(steps=[TriageStep()]))
    with db.session() as s:
        ticket_id = s.scalar(
            select(Message.ticket_id).where(Message.platform_message_id == previous)
        )
    assert ticket_id is not None
    return ticket_id


def _api_get(c: TestClient, path: str) -> dict:  # type: ignore[type-arg]
    r = c.post("/api/v1/auth/token", json={"email": "agent@example.com", "password": PASSWORD})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    r = c.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _link_incident(db: Database, ticket_id: int, state: str = "open") -> int:
    with db.write() as s:
        account = s.scalar(select(Message.channel_account_id).where(Message.ticket_id == ticket_id))
        started = utcnow().replace(hour=14, minute=5, second=0, microsecond=0) - timedelta(days=1)
        incident = Incident(
            workspace_id=s.scalar(select(Message.workspace_id).limit(1)),
            channel_account_id=account, topic="Cancelled flight", state=state,
            started_at=started, raised_at=started, peak_at=started,
        )  # fmt: skip
        s.add(incident)
        s.flush()
        s.add(IncidentTicket(incident_id=incident.id, ticket_id=ticket_id))
        return incident.id


def test_a_customer_getting_angrier_is_worsening_on_the_api_and_the_page(
    client: TestClient, app_db: Database
) -> None:
    ticket_id = _thread(app_db, ANGRIER)
    with app_db.session() as s:
        stored = list(s.scalars(select(Message.triage).where(Message.ticket_id == ticket_id)
                                .order_by(Message.created_at)))  # fmt: skip
    detail = _api_get(client, f"/tickets/{ticket_id}")
    trend = detail["triage_trend"]
    assert trend == trend_of(stored).as_dict()
    assert trend["sentiment"] == "worsening" and len(trend["scores"]) == 3
    assert len(trend["urgency"]) == 3 and trend["urgency"][-1] >= trend["urgency"][0]
    assert detail["incident_ids"] == []

    sign_in(client, "agent@example.com")
    page = client.get(f"/tickets/{ticket_id}").text
    panel = page[page.index('id="customer-title"') :]
    assert "<dt>Trend</dt>" in panel and "worsening over the last 3 messages" in panel
    assert f"<dd>{detail['sentiment_label']}" in panel and f"<dd>{detail['intent']}</dd>" in panel
    # The sparkline has a text alternative listing the scores it draws.
    title = re.search(
        r'<svg class="sparkline"[^>]*role="img"[^>]*>\s*<title id="spark-title">([^<]*)', panel
    )
    assert title is not None, panel
    assert "Sentiment worsening: scores" in title.group(1)
    assert f"{trend['scores'][-1]:+.2f}" in title.group(1)
    assert "incident-banner" not in page


def test_one_message_is_steady_and_draws_no_sparkline(client: TestClient, app_db: Database) -> None:
    ticket_id = _thread(app_db, ["Where is my parcel?"])
    trend = _api_get(client, f"/tickets/{ticket_id}")["triage_trend"]
    assert trend["sentiment"] == "steady" and len(trend["scores"]) == 1
    sign_in(client, "agent@example.com")
    page = client.get(f"/tickets/{ticket_id}").text
    assert '<dd class="trend trend-steady">steady</dd>' in page
    assert 'class="sparkline"' not in page


def test_the_customers_other_tickets_show_their_latest_sentiment(
    client: TestClient, app_db: Database
) -> None:
    first = _thread(app_db, ANGRIER[-1:], author="sam")
    with app_db.session() as s:
        label = s.scalar(select(Message.triage).where(Message.ticket_id == first))["sentiment"]
    # The first ticket was closed; the customer writing again starts a second one.
    with app_db.write() as s:
        ticket = s.get(Ticket, first)
        assert ticket is not None
        ticket.status, ticket.closed_at = "closed", utcnow()
    account = make_account(app_db)
    ingest(app_db, post(account, "sam-new", "Another thing: my seat?", author="sam", minutes=600),
           pipeline=Pipeline(steps=[TriageStep()]))  # fmt: skip
    with app_db.session() as s:
        second = s.scalar(select(Message.ticket_id).where(Message.platform_message_id == "sam-new"))
    assert second is not None and second != first
    sign_in(client, "agent@example.com")
    page = client.get(f"/tickets/{second}").text
    others = page[page.index('class="others"') :]
    assert re.search(rf'href="/tickets/{first}">#{first}</a>.*?last {label}', others, re.S)


def test_an_open_incident_shows_a_banner_and_is_listed_on_the_api(
    client: TestClient, app_db: Database
) -> None:
    ticket_id = _thread(app_db, ["My flight got cancelled!!"])
    incident_id = _link_incident(app_db, ticket_id)
    assert _api_get(client, f"/tickets/{ticket_id}")["incident_ids"] == [incident_id]
    sign_in(client, "agent@example.com")
    page = client.get(f"/tickets/{ticket_id}").text
    banner = re.search(r'<p class="incident-banner"[^>]*>(.*?)</p>', page, re.S)
    assert banner is not None
    text = re.sub(r"<[^>]+>", "", banner.group(1))
    assert text.startswith("Part of incident: Cancelled flight on AcmeSupport, started ")
    assert "14:05" in text and text.endswith("open the incident room")
    assert f'href="/incidents/{incident_id}"' in banner.group(1)


def test_a_closed_incident_is_listed_but_shows_no_banner(
    client: TestClient, app_db: Database
) -> None:
    ticket_id = _thread(app_db, ["My flight got cancelled!!"])
    incident_id = _link_incident(app_db, ticket_id, state="closed")
    assert _api_get(client, f"/tickets/{ticket_id}")["incident_ids"] == [incident_id]
    sign_in(client, "agent@example.com")
    assert "incident-banner" not in client.get(f"/tickets/{ticket_id}").text
