"""The public web form over real HTTP: page, validation, raw event first, ticket, limits."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.channels.base import AccountRef
from socialdesk.channels.email.connector import EmailConnector
from socialdesk.channels.email.emulator import MailEmulator
from socialdesk.channels.webform.connector import FormError, validate
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, RawEventStatus
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.store.db import Database
from socialdesk.store.models import Contact, ContactIdentity, Message, RawEvent, Ticket
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from socialdesk.web.webform import RateLimiter

FORM_ID = "acme-contact"
URL = f"/hooks/web/{FORM_ID}"
GOOD = {
    "name": "Ann Lee",
    "email": "Ann.Lee@Example.org",
    "subject": "Kettle leaks",
    "message": "My kettle leaks since Tuesday.",
}


@dataclass
class Site:
    client: httpx.Client
    db: Database
    account_id: int
    workspace_id: int


@pytest.fixture
def site(db: Database) -> Iterator[Site]:
    with db.write() as s:
        ws = ensure_workspace(s)
        account = create_channel_account(
            s, None, workspace_id=ws.id, platform=Platform.WEB, handle="Acme", external_id=FORM_ID
        )
        account_id, workspace_id = account.id, ws.id
    settings = Settings(max_webhook_body_bytes=20_000)
    app = create_app(settings, db)
    app.state.webform_rate_limiter = RateLimiter(limit=3, window=60)
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Site(client, db, account_id, workspace_id)


def _count(db: Database, model: type) -> int:
    with db.session() as s:
        return len(s.scalars(select(model)).all())


def test_form_page_is_an_accessible_form(site: Site) -> None:
    response = site.client.get(URL)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="en">' in page
    for name in ("name", "email", "subject", "message"):
        assert f'<label for="{name}">' in page and f'id="{name}"' in page
    assert 'name="website"' in page and 'aria-hidden="true"' in page
    assert re.search(r'name="form_token" value="[A-Za-z0-9_-]{16,}"', page)
    assert f'action="{URL}"' in page
    assert site.client.get("/hooks/web/nobody").status_code == 404


def test_browser_submission_stores_raw_event_then_ticket(site: Site) -> None:
    page = site.client.get(URL).text
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token is not None
    form = {**GOOD, "website": "", "form_token": token[1]}

    response = site.client.post(URL, data=form)
    again = site.client.post(URL, data=form)  # double click

    assert response.status_code == 200 and again.status_code == 200
    assert "Thank you" in response.text
    with site.db.session() as s:
        ticket = s.scalars(select(Ticket)).one()
        message = s.scalars(select(Message)).one()
        raws = s.scalars(select(RawEvent).order_by(RawEvent.id)).all()
        contact = s.get(Contact, ticket.contact_id)
    assert f"<strong>{ticket.id}</strong>" in response.text
    assert ticket.platform == "web" and ticket.subject == "Kettle leaks"
    assert message.body == GOOD["message"]
    assert message.platform_message_id == f"web:{token[1]}"
    assert message.raw_event_id == raws[0].id
    assert [r.source for r in raws] == ["hooks:web", "hooks:web"]
    assert all(r.status == str(RawEventStatus.PROCESSED) for r in raws)
    assert raws[0].channel_account_id == site.account_id
    assert contact is not None and contact.email == "ann.lee@example.org"


def test_json_submission_answers_with_ticket_id(site: Site) -> None:
    response = site.client.post(URL, json={**GOOD, "submission_id": "app-123456"})
    assert response.status_code == 200
    body = response.json()
    with site.db.session() as s:
        ticket_id = s.scalars(select(Ticket.id)).one()
    assert body == {"status": "received", "ticket_id": ticket_id}


def test_invalid_submissions_get_reasons_and_store_nothing(site: Site) -> None:
    bad = site.client.post(URL, json={"name": "", "email": "not-an-address", "message": " "})
    assert bad.status_code == 422
    problems = {d["field"]: d["problem"] for d in bad.json()["error"]["details"]}
    assert problems == {
        "name": "is required",
        "email": "is not an e-mail address",
        "message": "is required",
    }
    html_bad = site.client.post(URL, data={**GOOD, "email": ""})
    assert html_bad.status_code == 422
    assert 'role="alert"' in html_bad.text and 'aria-invalid="true"' in html_bad.text
    assert "My kettle leaks since Tuesday." in html_bad.text  # what they typed is kept
    too_long = site.client.post(URL, json={**GOOD, "subject": "x" * 201})
    assert too_long.status_code == 422
    assert site.client.post(URL, json=["list"]).status_code == 400
    assert site.client.post(URL, json={**GOOD, "message": 5}).status_code == 422
    assert (
        site.client.post(
            URL, content=b"{", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert (
        site.client.post(URL, content=b"x", headers={"content-type": "text/plain"}).status_code
        == 415
    )
    assert _count(site.db, RawEvent) == 0 and _count(site.db, Ticket) == 0


def test_oversized_body_and_unknown_account(site: Site) -> None:
    big = site.client.post(URL, json={**GOOD, "message": "x" * 30_000})
    assert big.status_code == 413
    assert site.client.post("/hooks/web/nobody", json=GOOD).status_code == 404
    assert _count(site.db, RawEvent) == 0


def test_honeypot_is_thanked_and_dropped(site: Site) -> None:
    response = site.client.post(URL, data={**GOOD, "website": "http://spam.example"})
    assert response.status_code == 200 and "Thank you" in response.text
    assert _count(site.db, RawEvent) == 0 and _count(site.db, Message) == 0


def test_rate_limit_per_client_address(site: Site) -> None:
    statuses = [
        site.client.post(URL, json={**GOOD, "message": f"message {n}"}).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    limited = site.client.post(URL, json=GOOD)
    assert int(limited.headers["Retry-After"]) >= 1
    assert _count(site.db, Message) == 3


def test_rate_limiter_window_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(limit=2, window=10, clock=lambda: now[0])
    assert limiter.hit("a") is None and limiter.hit("a") is None
    assert limiter.hit("a") == 10
    assert limiter.hit("b") is None
    now[0] = 10.5
    assert limiter.hit("a") is None


def test_validate_normalizes() -> None:
    submission = validate({**GOOD, "message": "line 1\r\nline 2\x00", "subject": ""})
    assert submission.email == "ann.lee@example.org"
    assert submission.message == "line 1\nline 2"
    with pytest.raises(FormError) as caught:
        validate({**GOOD, "subject": "two\nlines", "form_token": "bad token!"})
    assert set(caught.value.errors) == {"subject", "form_token"}


def test_later_email_from_the_same_address_finds_the_same_contact(site: Site) -> None:
    site.client.post(URL, json=GOOD)
    with site.db.write() as s:
        email_account = create_channel_account(
            s,
            None,
            workspace_id=site.workspace_id,
            platform=Platform.EMAIL,
            handle="Acme Support",
            external_id="support@acme.test",
        ).id
    with MailEmulator() as mail:
        mail.deliver(mail.customer_mail("ann.lee@example.org", "Re: kettle", "Any news?"))
        account = AccountRef(
            id=email_account,
            platform=Platform.EMAIL,
            external_id=mail.address,
            handle="Acme Support",
            secrets=mail.account_secrets(),
            settings=mail.account_settings(),
        )
        polled = asyncio.run(EmailConnector().poll(account, None))
    with site.db.write() as s:
        Pipeline().ingest(s.connection(), polled.messages)
    with site.db.session() as s:
        identities = s.execute(
            select(ContactIdentity.platform, ContactIdentity.contact_id).order_by(
                ContactIdentity.platform
            )
        ).all()
        tickets = s.scalars(select(Ticket.id)).all()
        rules = [m.meta.get("thread_rule") for m in s.scalars(select(Message).order_by(Message.id))]
    assert [i.platform for i in identities] == ["email", "web"]
    assert identities[0].contact_id == identities[1].contact_id
    assert _count(site.db, Contact) == 1
    # The open web-form ticket of that contact takes the e-mail.
    assert len(tickets) == 1
    assert rules == ["new_ticket", "open_ticket_of_contact"]
