"""The daily digest: what customers said on a day, through the API, and e-mailed once at
the workspace's hour to its leads and marketing people over real SMTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.actions.tickets import reply
from socialdesk.automation.followups import schedule_promised_follow_up
from socialdesk.channels.email.emulator import MailEmulator
from socialdesk.config import Settings, reset_settings_cache
from socialdesk.domain.enums import Role
from socialdesk.notify.mailer import SmtpConfig
from socialdesk.notify.worker import NotificationWorker
from socialdesk.reports.digest_send import digest_hour, send_due_digests
from socialdesk.sla.scan import scan_sla
from socialdesk.store.models import AuditEntry, NotificationOutboxEntry, Ticket, User, Workspace
from socialdesk.wiring.pipeline import build_pipeline
from tests.api.conftest import PASSWORD, Api
from tests.pipeline.helpers import T0, ingest, make_account, post
from tests.sla.helpers import add_policy

DAY = "2017-10-31"
# 10:10 in New York on a Tuesday: inside the office hours the SLA policy counts.
MORNING = -8 * 60


@pytest.fixture
def said(api: Api, admin: httpx.Client) -> list[int]:
    """Three customers wrote on the X account that morning; nobody answered within the
    hour (breached at the evening scan); one got a reply with a promise, which fell due."""
    add_policy(api.db)
    account = make_account(api.db)
    texts = ["my parcel is late again", "where is my order??", "the app charged me twice"]
    for n, text in enumerate(texts):
        ingest(
            api.db,
            post(account, f"d{n}", f"@AcmeSupport {text}", author=f"cust{n}", minutes=MORNING + n),
            pipeline=build_pipeline(Settings()),
        )
    with api.db.write() as s:
        scan_sla(s.connection(), T0)
        ids = list(s.scalars(select(Ticket.id).order_by(Ticket.id)))
    for ticket_id, topic in zip(ids, ["delivery", "delivery", "billing"], strict=True):
        assert admin.patch(f"/tickets/{ticket_id}", json={"topic": topic}).status_code == 200
    with api.db.write() as s:
        lead = s.scalars(select(User).where(User.role == "admin")).first()
        assert lead is not None
        ticket = s.get_one(Ticket, ids[0])
        message = reply(s, ticket, lead, "Sorry! I'll get back to you in 2 hours")
        schedule_promised_follow_up(s, ticket, lead, message, T0 + timedelta(minutes=MORNING + 5))
    return ids


def test_the_digest_of_a_day_through_the_api(
    api: Api, admin: httpx.Client, agent: httpx.Client, said: list[int]
) -> None:
    response = admin.get("/reports/digest", params={"date": DAY})
    assert response.status_code == 200, response.text
    digest = response.json()
    assert digest["date"] == DAY and digest["timezone"] == "UTC"
    assert digest["messages"] == 3
    assert digest["messages_by_channel"] == {"x": 3} == digest["opened_by_channel"]
    # The answered one waited years (replayed 2017 data answered now); the other two wait
    # until the day's end: 24:00 - 14:11:47 and 24:00 - 14:12:47.
    assert [t["id"] for t in digest["slowest"]] == said
    assert [t["answered"] for t in digest["slowest"]] == [True, False, False]
    assert digest["slowest"][1]["wait_seconds"] == 9 * 3600 + 48 * 60 + 13
    assert sorted(t["id"] for t in digest["breached"]) == said
    assert digest["topics"] == [
        {"topic": "delivery", "tickets": 2},
        {"topic": "billing", "tickets": 1},
    ]
    with api.db.session() as s:
        labels = [label for label in s.scalars(select(Ticket.sentiment_label)) if label]
    assert sum(digest["sentiment"].values()) == len(labels) > 0
    [promise] = digest["promises_due"]
    assert promise["ticket_id"] == said[0] and promise["overdue"] is True
    assert promise["phrase"].startswith("I'll get back to you in 2 hours")

    quiet = admin.get("/reports/digest", params={"date": "2017-10-30"}).json()
    assert quiet["messages"] == 0 and quiet["slowest"] == [] and quiet["breached"] == []
    for bad in ("31/10/2017", "2999-01-01"):
        refused = admin.get("/reports/digest", params={"date": bad})
        assert refused.status_code == 422 and "date" in refused.json()["error"]["reason"]
    assert agent.get("/reports/digest").status_code == 403


@pytest.mark.parametrize(
    ("value", "hour"),
    [(None, None), (7, 7), ("18", 18), (0, 0), (24, None), (-1, None), (True, None), ("x", None)],
)
def test_digest_hour_setting(value: object, hour: int | None) -> None:
    assert digest_hour({} if value is None else {"digest_hour": value}) == hour


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[MailEmulator]:
    with MailEmulator() as mail:
        monkeypatch.setenv("SOCIALDESK_SMTP_HOST", mail.host)
        monkeypatch.setenv("SOCIALDESK_PUBLIC_URL", "https://desk.acme.test")
        reset_settings_cache()
        yield mail
    monkeypatch.delenv("SOCIALDESK_SMTP_HOST")
    monkeypatch.delenv("SOCIALDESK_PUBLIC_URL")
    reset_settings_cache()


def test_the_digest_is_mailed_once_at_its_hour_to_leads_and_marketing(
    api: Api, said: list[int], smtp: MailEmulator
) -> None:
    with api.db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, "lead@acme.test", PASSWORD, Role.LEAD, workspace=ws)
        create_user(s, "brand@acme.test", PASSWORD, Role.MARKETING, workspace=ws)
        s.execute(update(Workspace).values(settings={"digest_hour": 23}))
    evening = datetime(2017, 10, 31, 22, 59, tzinfo=UTC)
    assert send_due_digests(api.db, evening) == []  # before the hour
    at_hour = evening + timedelta(minutes=1)
    # Several processes' passes at once: one digest.
    results: list[list[int] | None] = []
    passes = [
        threading.Thread(target=lambda: results.append(send_due_digests(api.db, at_hour)))
        for _ in range(3)
    ]
    for thread in passes:
        thread.start()
    for thread in passes:
        thread.join()
    assert sum(len(r or []) for r in results) == 1
    assert send_due_digests(api.db, at_hour + timedelta(minutes=30)) == []

    config = SmtpConfig(
        host=smtp.host,
        port=smtp.smtp_port,
        sender="desk@acme.test",
        username=smtp.address,
        password=smtp.password,
        starttls=False,
    )
    assert NotificationWorker(api.db, config).run_once() == 1
    [sent] = smtp.wait_for_sent(1)
    assert sorted(sent.rcpt_tos) == ["brand@acme.test", "lead@acme.test"]
    assert sent.message["Subject"].endswith(f"what was said about you on {DAY}")
    body = sent.message.get_content()
    assert "Customer messages: 3" in body and "  x: 3" in body
    assert f"https://desk.acme.test/tickets/{said[1]}" in body
    assert "delivery (2), billing (1)" in body
    assert "(overdue)" in body and f"/reports/digest?date={DAY}" in body
    with api.db.session() as s:
        [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "digest.sent"))
        assert entry.data["date"] == DAY and entry.workspace_id is not None
        assert s.scalar(select(NotificationOutboxEntry.state)) == "sent"

    # The next day at the hour: the next digest.
    assert len(send_due_digests(api.db, at_hour + timedelta(days=1)) or []) == 1
