"""The conversation page under a trimmed e-mail: "Show the full e-mail" (a ``<details>``
that works without script) and the signature folded or kept as the workspace says."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.channels.base import AccountRef
from socialdesk.channels.email.message import parse_email
from socialdesk.domain.enums import Platform
from socialdesk.store.db import Database
from socialdesk.store.models import Message
from tests.pipeline.helpers import ingest, make_account
from tests.web.test_pages import app_db, client, sign_in

__all__ = ["app_db", "client"]

CORPUS = Path(__file__).parents[1] / "fixtures" / "email_replies"
OUTLOOK_REPLY = b"""From: Jane Doe <jane@example.com>
To: Acme Support <support@acme.test>
Subject: RE: Order 4411
Date: Mon, 04 Mar 2024 11:02:00 +0000
Message-ID: <outlook-1@example.com>
Content-Type: text/plain; charset="utf-8"

Blue, please.

Best regards,
Jane Doe
Example Ltd

________________________________
From: Acme Support <support@acme.test>
Sent: Monday, March 4, 2024 10:15 AM
To: Jane Doe <jane@example.com>
Subject: Re: Order 4411

Which colour would you like?
"""


def seed_email(db: Database, raw: bytes) -> int:
    account_id = make_account(db, Platform.EMAIL, "acme-mail")
    account = AccountRef(account_id, Platform.EMAIL, "support@acme.test", "support@acme.test")
    message = parse_email(raw, account)
    assert message is not None
    ingest(db, message)
    with db.session() as s:
        ticket = s.scalar(select(Message.ticket_id).where(Message.channel_account_id == account_id))
    return int(ticket)


def test_a_trimmed_mail_has_its_full_text_one_click_away(
    client: TestClient, app_db: Database
) -> None:
    ticket_id = seed_email(app_db, OUTLOOK_REPLY)
    sign_in(client, "agent@example.com")
    page = html.unescape(client.get(f"/tickets/{ticket_id}").text)

    assert '<div class="msg-body">Blue, please.</div>' in page
    assert "<summary>Show the full e-mail</summary>" in page
    full = page.split("<summary>Show the full e-mail</summary>", 1)[1]
    assert "From: Acme Support <support@acme.test>" in full
    assert "Which colour would you like?" in full
    # Folded by default: the signature sits in its own disclosure, not in the text.
    assert '<details class="msg-signature muted"><summary>Signature</summary>' in page
    assert "Best regards,\nJane Doe\nExample Ltd" in page


def test_kept_signatures_stay_in_the_text_and_the_setting_refuses_nonsense(
    client: TestClient, app_db: Database
) -> None:
    ticket_id = seed_email(app_db, OUTLOOK_REPLY)
    csrf = sign_in(client, "admin@example.com")
    assert 'name="signatures"' in client.get("/settings").text
    bad = client.post("/settings/email", data={"signatures": "hidden", "csrf_token": csrf})
    assert bad.status_code == 422
    assert "folded, kept" in html.unescape(bad.text)
    r = client.post("/settings/email", data={"signatures": "kept", "csrf_token": csrf})
    assert r.status_code == 303

    page = html.unescape(client.get(f"/tickets/{ticket_id}").text)
    kept = "Blue, please.\n\nBest regards,\nJane Doe\nExample Ltd"
    assert f'<div class="msg-body">{kept}</div>' in page
    assert "<summary>Signature</summary>" not in page
    assert "<summary>Show the full e-mail</summary>" in page


def test_an_untrimmed_mail_has_no_disclosure(client: TestClient, app_db: Database) -> None:
    # A Gmail forward with the blank lines Gmail puts above the forwarded text.
    forward = (CORPUS / "gmail_en_forward.txt").read_text(encoding="utf-8")
    assert "\n\n\n" in forward
    raw = (
        b"From: Jane Doe <jane@example.com>\nTo: support@acme.test\nSubject: Fwd: Broken charger\n"
        b"Message-ID: <fwd-1@example.com>\nContent-Type: text/plain; charset=utf-8\n\n"
        + forward.encode()
    )
    ticket_id = seed_email(app_db, raw)
    sign_in(client, "agent@example.com")
    page = client.get(f"/tickets/{ticket_id}").text
    assert "Please see below, this is the third time I write about it." in page
    assert "The charger from order 4411 stopped working after two days." in page
    assert "Show the full e-mail" not in page
