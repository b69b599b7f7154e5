"""E-mail replies end to end: real mail over IMAP (the customer's) and SMTP (ours), an
Outlook-style answer with its header block and quoted history, and what the API shows:
only the new text in ``body``, the whole mail in ``original_body``. Also the workspace's
signature setting through the API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from socialdesk.channels.email.connector import EmailConnector
from socialdesk.channels.email.emulator import MailEmulator
from socialdesk.domain.enums import Platform
from socialdesk.store.models import Message
from tests.api.conftest import Api
from tests.channels.test_email import _ingest_poll, account_for, poll, reply_to, run
from tests.pipeline.helpers import make_account


@pytest.fixture
def mail() -> Iterator[MailEmulator]:
    with MailEmulator() as emulator:
        yield emulator


def test_an_outlook_reply_shows_only_the_new_text_and_the_api_keeps_the_original(
    api: Api, agent: httpx.Client, mail: MailEmulator
) -> None:
    account = account_for(mail, account_id=make_account(api.db, Platform.EMAIL, "acme-mail"))
    mail.deliver(
        mail.customer_mail(
            "ann.lee@example.org",
            "Broken kettle",
            "My kettle leaks since Monday.\n\nAnn",
            sender_name="Ann Lee",
            message_id="<k1@example.org>",
        )
    )
    cursor = _ingest_poll(api.db, account, None)
    (first,) = poll(account, None).messages

    # Our answer goes out over SMTP; the customer's Outlook quotes what arrived.
    ours = run(EmailConnector().send(account, reply_to(first, "Could you send a photo?", "r-1")))
    (sent,) = mail.wait_for_sent(1)
    sent_text = sent.message.get_body(preferencelist=("plain",))
    assert sent_text is not None
    quoted_history = str(sent_text.get_content()).strip()
    outlook_body = (
        "Here it is, the leak is at the bottom.\r\n\r\n"
        "Kind regards,\r\nAnn Lee\r\n\r\n"
        "________________________________\r\n"
        "From: Acme Support <support@acme.test>\r\n"
        "Sent: Tuesday, March 5, 2024 9:12 AM\r\n"
        "To: Ann Lee <ann.lee@example.org>\r\n"
        "Subject: Re: Broken kettle\r\n\r\n"
        f"{quoted_history}\r\n\r\n"
        "________________________________\r\n"
        "From: Ann Lee <ann.lee@example.org>\r\n"
        "Sent: Monday, March 4, 2024 8:02 AM\r\n"
        "To: support@acme.test\r\n"
        "Subject: Broken kettle\r\n\r\n"
        "My kettle leaks since Monday.\r\n"
    )
    mail.deliver(
        mail.customer_mail(
            "ann.lee@example.org",
            "RE: Broken kettle",
            outlook_body,
            sender_name="Ann Lee",
            in_reply_to=ours.platform_message_id,
            references=("<k1@example.org>", ours.platform_message_id),
        )
    )
    _ingest_poll(api.db, account, cursor)

    with api.db.session() as s:
        ticket_ids = set(s.scalars(select(Message.ticket_id)))
    (ticket_id,) = ticket_ids
    r = agent.get(f"/tickets/{ticket_id}")
    assert r.status_code == 200, r.text
    first_out, answer = r.json()["messages"]
    assert first_out["body"] == "My kettle leaks since Monday.\n\nAnn"
    assert first_out["original_body"] is None and first_out["signature"] is None
    assert answer["body"] == "Here it is, the leak is at the bottom."
    assert answer["signature"] == "Kind regards,\nAnn Lee"
    original = answer["original_body"]
    assert original.startswith("Here it is, the leak is at the bottom.")
    assert "From: Acme Support <support@acme.test>" in original
    assert "Could you send a photo?" in original
    assert original.rstrip().endswith("My kettle leaks since Monday.")


def test_the_signature_setting_through_the_api(
    api: Api, admin: httpx.Client, agent: httpx.Client
) -> None:
    assert admin.get("/email/settings").json() == {"signatures": "folded"}
    r = admin.patch("/email/settings", json={"signatures": "kept"})
    assert r.status_code == 200, r.text
    assert r.json() == {"signatures": "kept"}
    assert agent.get("/email/settings").json() == {"signatures": "kept"}

    bad = admin.patch("/email/settings", json={"signatures": "hidden"})
    assert bad.status_code == 422
    assert "folded, kept" in bad.text
    assert admin.patch("/email/settings", json={"colour": "red"}).status_code == 422
    assert agent.patch("/email/settings", json={"signatures": "folded"}).status_code == 403
    assert admin.get("/email/settings", params={"workspace": 999}).status_code == 403
    assert admin.get("/email/settings").json() == {"signatures": "kept"}
