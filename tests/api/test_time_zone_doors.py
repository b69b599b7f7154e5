"""A person's time zone, set through either door (API and account page), with the same
rule and the same effect: the pages print times in it and read "Send at" in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from socialdesk.store.models import AuditEntry, OutboxEntry, User
from tests.api.doors import Desk


def _zone(desk: Desk, who: str) -> str | None:
    with desk.db.session() as s:
        return s.scalar(select(User.time_zone).where(User.email == f"{who}@example.com"))


def test_both_doors_set_and_refuse_the_same_zones(desk: Desk) -> None:
    api = desk.api("agent")
    page = desk.page("lead")
    assert api.get("/me").json()["time_zone"] is None

    bad_api = api.patch("/me", json={"time_zone": "Mars/Olympus"})
    bad_page = page.post("/account/time-zone", {"time_zone": "Mars/Olympus"})
    assert bad_api.status_code == bad_page.status_code == 422
    assert "not a time zone" in bad_api.json()["error"]["reason"]
    assert "not a time zone" in bad_page.text
    assert _zone(desk, "agent") is None and _zone(desk, "lead") is None

    r = api.patch("/me", json={"time_zone": "Europe/Paris"})
    assert r.status_code == 200 and r.json()["time_zone"] == "Europe/Paris"
    r = page.post("/account/time-zone", {"time_zone": "Europe/Paris"})
    assert r.status_code == 303
    assert _zone(desk, "agent") == _zone(desk, "lead") == "Europe/Paris"
    assert "Time zone saved." in page.get(r.headers["location"]).text
    with desk.db.session() as s:
        audited = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "user.time_zone")))
    assert len(audited) == 2 and all(a.workspace_id is not None for a in audited)


def test_the_pages_print_and_read_times_in_the_chosen_zone(desk: Desk) -> None:
    page = desk.page("agent")
    assert page.post("/account/time-zone", {"time_zone": "America/New_York"}).status_code == 303
    thread = page.get(f"/tickets/{desk.ticket_id}").text
    assert " EST</time>" in thread or " EDT</time>" in thread

    # "Send at" typed as a wall time is read in New York time.
    wall = (datetime.now(UTC) + timedelta(days=2)).replace(
        hour=9, minute=30, second=0, microsecond=0, tzinfo=None
    )
    r = page.post(
        f"/tickets/{desk.ticket_id}/reply",
        {"body": "We will call you then.", "schedule": "1", "send_at": wall.isoformat()},
    )
    assert r.status_code in (200, 303), r.text
    with desk.db.session() as s:
        due = s.scalar(select(OutboxEntry.next_attempt_at))
    assert due is not None
    offset = wall - due.replace(tzinfo=None)
    assert offset in (timedelta(hours=-5), timedelta(hours=-4))  # EST or EDT
