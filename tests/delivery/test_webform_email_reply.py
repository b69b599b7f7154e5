"""A web-form ticket answered by e-mail, end to end over real servers: the form over
HTTP, the ticket and the reply through the REST API, the reply over SMTP (aiosmtpd) to
the address given on the form, and the customer's answer over IMAP (pymap) back into
the same ticket; without an e-mail account the agent sees why the reply failed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.channels.email.emulator import MailEmulator
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.config import Settings
from socialdesk.delivery.worker import DeliveryWorker
from socialdesk.domain.enums import Platform, Role
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.polling import poll_account
from socialdesk.store.db import Database
from socialdesk.store.models import Contact, Message, OutboxEntry, Ticket
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve

FORM_ID = "acme-contact"
PASSWORD = "correct horse battery"
FORM = {
    "name": "Ann Lee",
    "email": "Ann.Lee@Example.org",
    "subject": "Kettle leaks",
    "message": "My kettle leaks since Tuesday.",
    "submission_id": "form-submission-0001",
}


@dataclass
class Desk:
    site: httpx.Client  # the public side (the form)
    api: httpx.Client  # an agent's REST client
    db: Database
    email_account_id: int | None


def _desk(db: Database, mail: MailEmulator | None) -> Iterator[Desk]:
    with db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, "agent@example.com", PASSWORD, Role.AGENT, workspace=ws)
        create_channel_account(
            s, None, workspace_id=ws.id, platform=Platform.WEB, handle="Acme", external_id=FORM_ID
        )
        email_account_id = (
            create_channel_account(
                s,
                None,
                workspace_id=ws.id,
                platform=Platform.EMAIL,
                handle="Acme Support",
                external_id=mail.address,
                secrets=mail.account_secrets(),
                settings=mail.account_settings(),
            ).id
            if mail is not None
            else None
        )
    # Workers off: the test runs delivery and polling itself, one pass at a time.
    app = create_app(Settings(run_workers=False), db)
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as site:
        api = httpx.Client(base_url=url + "/api/v1", timeout=30)
        login = {"email": "agent@example.com", "password": PASSWORD}
        token = api.post("/auth/token", json=login).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        yield Desk(site, api, db, email_account_id)
        api.close()


@pytest.fixture
def mail() -> Iterator[MailEmulator]:
    with MailEmulator() as emulator:
        yield emulator


@pytest.fixture
def desk(db: Database, mail: MailEmulator) -> Iterator[Desk]:
    yield from _desk(db, mail)


@pytest.fixture
def desk_without_email(db: Database) -> Iterator[Desk]:
    yield from _desk(db, None)


def _submit(desk: Desk) -> int:
    submitted = desk.site.post(f"/hooks/web/{FORM_ID}", json=FORM)
    assert submitted.status_code == 200, submitted.text
    return int(submitted.json()["ticket_id"])


def _reply(desk: Desk, ticket_id: int, body: str) -> dict[str, Any]:
    response = desk.api.post(f"/tickets/{ticket_id}/replies", json={"body": body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _deliver(db: Database) -> int:
    async def once() -> int:
        registry = ConnectorRegistry(Settings())
        try:
            return await DeliveryWorker(db, registry).run_once()
        finally:
            await registry.aclose()

    return asyncio.run(once())


def _poll(db: Database, account_id: int) -> tuple[int, str | None]:
    async def once() -> tuple[int, str | None]:
        registry = ConnectorRegistry(Settings())
        try:
            outcome = await poll_account(db, Pipeline(), registry, account_id)
            return outcome.stored, outcome.error
        finally:
            await registry.aclose()

    return asyncio.run(once())


def test_form_ticket_answered_by_email_and_the_answer_threads_back(
    desk: Desk, mail: MailEmulator
) -> None:
    assert desk.email_account_id is not None
    ticket_id = _submit(desk)
    ticket = desk.api.get(f"/tickets/{ticket_id}").json()
    assert ticket["subject"] == "Kettle leaks" and ticket["platform"] == "web"

    first = _reply(desk, ticket_id, "Sorry, Ann! A replacement kettle ships today.")
    assert first["delivery_state"] == "queued"
    assert _deliver(desk.db) == 1
    (sent,) = mail.wait_for_sent(1)
    message = sent.message
    assert sent.rcpt_tos == ("ann.lee@example.org",)  # the address on the form
    assert message["To"] == "ann.lee@example.org"
    assert message["From"].addresses[0].addr_spec == mail.address
    assert message["Subject"] == "Kettle leaks"
    assert message["In-Reply-To"] is None  # a form submission has no Message-ID
    assert "replacement kettle" in message.get_content()
    our_id = str(message["Message-ID"])
    stored = desk.api.get(f"/tickets/{ticket_id}").json()["messages"][-1]
    assert stored["delivery_state"] == "sent" and stored["platform_message_id"] == our_id
    assert stored["platform"] == "email" and stored["channel_account_id"] == desk.email_account_id

    # The customer answers from their mail program; the poller reads it over IMAP.
    answer = mail.customer_mail(
        "ann.lee@example.org",
        "Re: Kettle leaks",
        "Thanks! Do I send the old one back?\n\nOn Monday Acme wrote:\n> Sorry, Ann!",
        to=mail.address,
        sender_name="Ann Lee",
        in_reply_to=our_id,
        references=(our_id,),
        # Date has whole seconds: written a little later than our reply, as it would be.
        date=datetime.now(UTC) + timedelta(seconds=2),
    )
    mail.deliver(answer)
    assert _poll(desk.db, desk.email_account_id) == (1, None)
    detail = desk.api.get(f"/tickets/{ticket_id}").json()
    assert [m["direction"] for m in detail["messages"]] == ["inbound", "outbound", "inbound"]
    assert detail["messages"][-1]["body"] == "Thanks! Do I send the old one back?"
    assert detail["needs_reply"] is True
    with desk.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1
        assert s.scalar(select(func.count()).select_from(Contact)) == 1  # one person
        threaded = s.scalar(select(Message).order_by(Message.id.desc()).limit(1))
        assert threaded is not None and threaded.meta["thread_rule"] == "reply_chain"

    # The next answer replies to the customer's mail, keeping the chain.
    _reply(desk, ticket_id, "No need, keep it. Enjoy the new one!")
    assert _deliver(desk.db) == 1
    second = mail.wait_for_sent(2)[1].message
    assert second["To"] == "ann.lee@example.org"
    assert second["In-Reply-To"] == str(answer["Message-ID"])
    assert str(second["References"]).split() == [our_id, str(answer["Message-ID"])]
    assert second["Subject"] == "Re: Kettle leaks"


def test_without_an_email_account_the_reply_fails_with_the_reason(
    desk_without_email: Desk,
) -> None:
    desk = desk_without_email
    ticket_id = _submit(desk)
    reply = _reply(desk, ticket_id, "We will send a new kettle.")
    assert reply["delivery_state"] == "failed"
    assert "no e-mail channel account" in reply["delivery_error"]
    assert _deliver(desk.db) == 0  # nothing queued, nothing retried
    with desk.db.session() as s:
        entry = s.scalar(select(OutboxEntry))
        assert entry is not None and entry.state == "failed"
    stored = desk.api.get(f"/tickets/{ticket_id}").json()["messages"][-1]
    assert stored["delivery_state"] == "failed"
    assert "no e-mail channel account" in (stored["delivery_error"] or "")
