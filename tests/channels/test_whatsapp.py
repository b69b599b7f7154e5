"""WhatsApp's pure parts, table-driven: the 24-hour window, webhook bodies, templates,
error classification; and its webhook endpoint (signature, challenge) over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.channels.base import AccountRef, NetworkStatus, PayloadError, SendFailure
from socialdesk.channels.signatures import meta_signature
from socialdesk.channels.whatsapp.connector import classify_error
from socialdesk.channels.whatsapp.names import WHATSAPP
from socialdesk.channels.whatsapp.templates import fill_template
from socialdesk.channels.whatsapp.webhooks import parse_whatsapp_webhook
from socialdesk.channels.whatsapp.window import free_form_refusal, is_window_open
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform
from socialdesk.store.db import Database
from socialdesk.store.models import Message, RawEvent
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from tests.delivery.helpers import eventually

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
NUMBER_ID = "106540352242922"
ACCOUNT = AccountRef(id=7, platform=WHATSAPP, external_id=NUMBER_ID, handle="+15550000000")
SECRET = "test_app_secret"


def resolve(platform: Platform, external_id: str) -> AccountRef | None:
    return ACCOUNT if (platform, external_id) == (WHATSAPP, NUMBER_ID) else None


@pytest.mark.parametrize(
    ("last_inbound", "open_"),
    [
        (None, False),
        (NOW - timedelta(minutes=5), True),
        (NOW - timedelta(hours=23, minutes=59, seconds=59), True),
        (NOW - timedelta(hours=24), False),  # the edge is already closed
        (NOW - timedelta(days=3), False),
        (NOW + timedelta(minutes=1), True),  # a customer clock ahead of ours
    ],
)
def test_window(last_inbound: datetime | None, open_: bool) -> None:
    assert is_window_open(last_inbound, NOW) is open_
    refusal = free_form_refusal(last_inbound, NOW)
    assert (refusal is None) is open_
    if refusal:
        assert "choose a template" in refusal


def test_window_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        is_window_open(datetime(2026, 3, 2, 11), NOW)


def body(value: dict[str, Any], field: str = "messages") -> bytes:
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": NUMBER_ID}, **value}
    change = {"field": field, "value": value}
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [change]}]}
    return json.dumps(payload).encode()


def message(kind: str, content: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"from": "4915112345", "id": "wamid.in1", "timestamp": "1772452800", "type": kind,
            kind: content, **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("incoming", "text"),
    [
        (message("text", {"body": "Hallo"}), "Hallo"),
        (message("image", {"id": "m1", "mime_type": "image/jpeg", "caption": "Kaputt"}),
         "Kaputt\n[image]"),
        (message("document", {"id": "m2", "mime_type": "application/pdf", "filename": "r.pdf"}),
         "[document: r.pdf]"),
        (message("audio", {"id": "m3", "mime_type": "audio/ogg"}), "[audio]"),
        (message("location", {"latitude": 52.5, "longitude": 13.4, "name": "Depot"}),
         "[location: Depot, 13.4]"),
        (message("button", {"text": "Yes please", "payload": "YES"}), "Yes please"),
        (message("interactive", {"type": "button_reply",
                                 "button_reply": {"id": "b1", "title": "Track order"}}),
         "Track order"),
        (message("unsupported", {}), "[unsupported message]"),
    ],
)  # fmt: skip
def test_customer_messages(incoming: dict[str, Any], text: str) -> None:
    contacts = [{"profile": {"name": "Jonas"}, "wa_id": "4915112345"}]
    parsed = parse_whatsapp_webhook(body({"contacts": contacts, "messages": [incoming]}), resolve)
    [got] = parsed.messages
    assert got.body == text
    assert got.platform is WHATSAPP and got.channel_account_id == ACCOUNT.id
    assert got.author.external_user_id == "4915112345" and got.author.display_name == "Jonas"
    assert got.conversation_id == f"{NUMBER_ID}:4915112345"
    assert got.created_at == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_a_quoted_reply_names_its_parent_and_reactions_are_not_messages() -> None:
    quoted = message("text", {"body": "this one"}, context={"from": NUMBER_ID, "id": "wamid.out"})
    reaction = message("reaction", {"message_id": "wamid.out", "emoji": "👍"}, id="wamid.r")
    parsed = parse_whatsapp_webhook(body({"messages": [quoted, reaction]}), resolve)
    assert [m.reply_to_id for m in parsed.messages] == ["wamid.out"]


@pytest.mark.parametrize(
    ("status", "expected", "error"),
    [
        ({"status": "sent"}, NetworkStatus.SENT, None),
        ({"status": "delivered"}, NetworkStatus.DELIVERED, None),
        ({"status": "read"}, NetworkStatus.READ, None),
        ({"status": "failed", "errors": [{"code": 131047, "title": "Re-engagement message",
          "error_data": {"details": "more than 24 hours"}}]},
         NetworkStatus.FAILED, "131047 — Re-engagement message — more than 24 hours"),
        ({"status": "failed"}, NetworkStatus.FAILED, "the network reported the message failed"),
    ],
)  # fmt: skip
def test_statuses(status: dict[str, Any], expected: NetworkStatus, error: str | None) -> None:
    entry = {"id": "wamid.out", "timestamp": "1772452800", "recipient_id": "49151", **status}
    [got] = parse_whatsapp_webhook(body({"statuses": [entry]}), resolve).statuses
    assert (got.platform_message_id, got.account_id) == ("wamid.out", ACCOUNT.id)
    assert got.status is expected and got.error == error


def test_a_bad_change_is_refused_alone_and_other_numbers_are_ignored() -> None:
    good = json.loads(body({"messages": [message("text", {"body": "ok"})]}))
    ours, theirs = {"phone_number_id": NUMBER_ID}, {"phone_number_id": "999"}
    bad = {"field": "messages", "value": {"metadata": ours, "messages": [{"type": "text"}]}}
    other = {
        "field": "messages",
        "value": {"metadata": theirs, "messages": [message("text", {"body": "x"})]},
    }
    good["entry"][0]["changes"] += [bad, other]
    parsed = parse_whatsapp_webhook(json.dumps(good).encode(), resolve)
    assert [m.body for m in parsed.messages] == ["ok"]
    [rejected] = parsed.rejected
    assert "message.from is missing" in rejected.reason
    assert json.loads(rejected.body)["entry"][0]["changes"] == [bad]
    with pytest.raises(PayloadError):
        parse_whatsapp_webhook(body({"messages": [{"type": "text"}]}), resolve)
    with pytest.raises(PayloadError):
        parse_whatsapp_webhook(b'{"object": "page", "entry": []}', resolve)


TEMPLATES = {
    "templates": [
        {"name": "update", "language": "de_DE", "body": "Neuigkeiten: {{1}}"},
        {"name": "hello", "language": "en_US", "body": "Hello again!"},
        {"name": "two", "language": "en_US", "body": "{{1}} and {{2}}"},
        {"name": 5},
    ]
}


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("update", "Paket ist unterwegs", ("update", "de_DE", ("Paket ist unterwegs",),
                                           "Neuigkeiten: Paket ist unterwegs")),
        ("hello", "ignored", ("hello", "en_US", (), "Hello again!")),
        ("two", "x", "has 2 placeholders"),
        ("update", "  ", "needs the reply's text"),
        ("promo", "x", "not an approved template of this account (approved: update, hello, two)"),
    ],
)  # fmt: skip
def test_templates(name: str, text: str, expected: tuple[Any, ...] | str) -> None:
    filled = fill_template(TEMPLATES, name, text)
    if isinstance(expected, str):
        assert isinstance(filled, str) and expected in filled
    else:
        assert not isinstance(filled, str)
        template, rendered = filled
        assert (template.name, template.language, template.parameters, rendered) == expected


@pytest.mark.parametrize(
    ("status", "code", "failure"),
    [
        (401, 190, SendFailure.AUTH_REVOKED),
        (429, 130429, SendFailure.RATE_LIMITED),
        (400, 131056, SendFailure.RATE_LIMITED),
        (400, 80007, SendFailure.RATE_LIMITED),
        (400, 131047, SendFailure.OUTSIDE_WINDOW),
        (500, 131000, SendFailure.RETRYABLE),
        (503, 131016, SendFailure.RETRYABLE),
        (404, 132001, SendFailure.PERMANENT),
        (400, 100, SendFailure.PERMANENT),
        (502, None, SendFailure.RETRYABLE),
        (429, None, SendFailure.RATE_LIMITED),
        (400, None, SendFailure.PERMANENT),
    ],
)
def test_classify_error(status: int, code: int | None, failure: SendFailure) -> None:
    error = {"error": {"message": "m", "code": code, "error_data": {"details": "d"}}}
    got = classify_error(status, error if code is not None else {}, {"retry-after": "3"})
    assert got.failure is failure
    if code is not None:
        assert got.code == str(code) and got.reason == "m: d"
    if failure is SendFailure.RATE_LIMITED and code is not None:
        assert got.retry_at is not None


@pytest.fixture
def hooks(db: Database) -> Iterator[httpx.Client]:
    with db.write() as s:
        create_channel_account(
            s, None, workspace_id=ensure_workspace(s).id, platform=WHATSAPP,
            handle="+15550000000", external_id=NUMBER_ID,
        )  # fmt: skip
    settings = Settings(meta_app_secret=SECRET, meta_verify_token="verify-me")
    with serve(create_app(settings, db)) as base, httpx.Client(base_url=base) as client:
        yield client


def test_subscription_challenge(hooks: httpx.Client) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": "verify-me",
        "hub.challenge": "1158201444",
    }
    answer = hooks.get("/hooks/whatsapp", params=params)
    assert answer.status_code == 200 and answer.text == "1158201444"
    wrong = hooks.get("/hooks/whatsapp", params={**params, "hub.verify_token": "guess"})
    assert wrong.status_code == 403


def test_only_signed_deliveries_are_stored(hooks: httpx.Client, db: Database) -> None:
    payload = body({"messages": [message("text", {"body": "hi"})]})
    unsigned = hooks.post("/hooks/whatsapp", content=payload)
    forged = hooks.post(
        "/hooks/whatsapp", content=payload,
        headers={"x-hub-signature-256": meta_signature("not-the-secret", payload)},
    )  # fmt: skip
    assert (unsigned.status_code, forged.status_code) == (401, 403)
    signed = hooks.post(
        "/hooks/whatsapp", content=payload,
        headers={"x-hub-signature-256": meta_signature(SECRET, payload),
                 "content-type": "application/json"},
    )  # fmt: skip
    assert signed.status_code == 200 and signed.json()["status"] == "received"

    def stored() -> list[tuple[str, str]]:
        with db.session() as s:
            return [(m.body, m.platform or "") for m in s.scalars(select(Message))]

    # Only the signed one became a message (the raw-event worker of the served app).
    assert eventually(stored) == [("hi", "whatsapp")]
    with db.session() as s:
        assert {e.source for e in s.scalars(select(RawEvent))} == {"hooks:whatsapp"}
