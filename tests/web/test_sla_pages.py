"""Service levels in the inbox over HTTP: the next due time and breached / at-risk badges
on rows and the ticket page, the "SLA at risk" view, the "Time due" sort, and the lead's
live queue page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.config import Settings
from socialdesk.sla.views import due_label
from socialdesk.store.db import Database
from socialdesk.store.models import Message
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import T0, ingest, make_account, post
from tests.sla.helpers import add_policy
from tests.web.test_pages import app_db, client, sign_in

__all__ = ["app_db", "client"]
PIPELINE = build_pipeline(Settings())


def minutes_ago(minutes: float) -> float:
    """``post(minutes=...)`` counts from T0; this many minutes before now."""
    return (datetime.now(UTC) - T0).total_seconds() / 60 - minutes


def ticket_id(db: Database, pid: str) -> int:
    with db.session() as s:
        found = s.scalar(select(Message.ticket_id).where(Message.platform_message_id == pid))
        assert found is not None
        return found


def seed(db: Database) -> dict[str, int]:
    """A 24/7 policy (first response 60 min, warning at 75 %) and three tickets: one
    breached long ago, one past its warning share, one fresh."""
    add_policy(db, calendar=None)
    account = make_account(db)
    ingest(
        db,
        post(account, "old", "Still waiting for my refund", author="olga"),
        post(account, "risk", "Where is my parcel?", author="rita", minutes=minutes_ago(50)),
        post(account, "new", "Can I change my address?", author="nina", minutes=minutes_ago(5)),
        pipeline=PIPELINE,
    )
    return {pid: ticket_id(db, pid) for pid in ("old", "risk", "new")}


def row_of(page: str, tid: int) -> str:
    match = re.search(rf'<li class="ticket-row[^"]*" data-ticket-id="{tid}".*?</li>', page, re.S)
    assert match, f"ticket {tid} not listed"
    return match.group(0)


def listed(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-ticket-id="(\d+)"', page)]


def test_due_label_wording() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert due_label(None, now) == ""
    assert due_label(now.replace(minute=25), now) == "due in 25 min"
    assert due_label(now.replace(hour=11), now) == "overdue 1 h"
    assert due_label(now.replace(day=4), now) == "due in 3 d"


def test_rows_show_due_time_and_badges(client: TestClient, app_db: Database) -> None:
    ids = seed(app_db)
    sign_in(client, "agent@example.com")
    page = client.get("/inbox").text
    old, risk, new = (row_of(page, ids[k]) for k in ("old", "risk", "new"))
    assert "SLA breached" in old and re.search(r"overdue \d+ d", old)
    assert "SLA at risk" in risk and re.search(r"due in (9|10|11) min", risk)
    assert "SLA" not in new.replace("sla", "") and re.search(r"due in 5[4-6] min", new)


def test_ticket_page_shows_due_time_and_badge(client: TestClient, app_db: Database) -> None:
    ids = seed(app_db)
    sign_in(client, "agent@example.com")
    page = client.get(f"/tickets/{ids['risk']}").text
    assert "SLA at risk" in page and re.search(r"due in (9|10|11) min", page)
    page = client.get(f"/tickets/{ids['old']}").text
    assert "SLA breached" in page and "overdue" in page
    page = client.get(f"/tickets/{ids['new']}").text
    assert "SLA breached" not in page and "SLA at risk" not in page
    assert re.search(r"due in 5[4-6] min", page)


def test_at_risk_view_and_time_due_sort(client: TestClient, app_db: Database) -> None:
    ids = seed(app_db)
    sign_in(client, "agent@example.com")
    page = client.get("/inbox").text
    assert re.search(r'data-count="at_risk">2<', page)
    assert "SLA at risk</span>" in page  # the sidebar entry
    at_risk = client.get("/inbox?view=at_risk")
    assert at_risk.status_code == 200
    assert listed(at_risk.text) == [ids["risk"], ids["old"]]  # newest first by default
    soonest = listed(client.get("/inbox?view=at_risk&sort=due").text)
    assert soonest == [ids["old"], ids["risk"]]
    by_due = client.get("/inbox?sort=due")
    assert by_due.status_code == 200 and "Time due" in by_due.text
    assert listed(by_due.text) == [ids["old"], ids["risk"], ids["new"]]
    channel = listed(client.get("/inbox?view=at_risk&channel=facebook").text)
    assert channel == []


def test_live_queue_page_for_leads_only(client: TestClient, app_db: Database) -> None:
    seed(app_db)
    sign_in(client, "agent@example.com")
    assert client.get("/queue").status_code == 403
    client.cookies.clear()
    sign_in(client, "lead@example.com")
    r = client.get("/queue")
    assert r.status_code == 200
    assert 'href="/queue"' in r.text and "Live queue" in r.text
    assert re.search(r'data-view-size="open">3<', r.text)
    assert re.search(r'data-view-size="at_risk">2<', r.text)
    channel = re.search(r'<tr data-channel="x">.*?</tr>', r.text, re.S)
    assert channel and "waiting" in channel.group(0) and "<td>3</td>" in channel.group(0)
    assert "Agents on shift" in r.text
