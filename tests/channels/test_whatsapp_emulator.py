"""The WhatsApp emulator answers like the Cloud API: Graph error bodies by code, the
429 throughput error, template checks, and our connector reads each of them right."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from socialdesk.channels.base import (
    AccountRef,
    MessageTemplate,
    OutboundRequest,
    ReplyKind,
    SendError,
    SendFailure,
)
from socialdesk.channels.signatures import appsecret_proof
from socialdesk.channels.whatsapp.connector import WhatsAppConnector
from socialdesk.channels.whatsapp.emulator import create_whatsapp_emulator
from socialdesk.channels.whatsapp.names import WHATSAPP
from socialdesk.emulators.server import serve_app

SECRET = "s3cret"
NUMBER = "1065"
TOKEN = "tok"
PATH = f"/v21.0/{NUMBER}/messages"
TEXT = {"messaging_product": "whatsapp", "to": "4915112345", "type": "text"}


@pytest.fixture
def wa() -> Iterator[httpx.Client]:
    with serve_app(create_whatsapp_emulator(SECRET)) as url, httpx.Client(base_url=url) as c:
        c.post(
            "/_emulator/numbers",
            json={"phone_number_id": NUMBER, "access_token": TOKEN,
                  "templates": [{"name": "hi", "language": "en_US", "body": "Hi {{1}}"}]},
        )  # fmt: skip
        yield c


def _send(wa: httpx.Client, body: dict[str, object], token: str = TOKEN) -> httpx.Response:
    return wa.post(PATH, json=body, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize(
    ("body", "token", "status", "code"),
    [
        ({**TEXT, "text": {"body": "hello"}}, "wrong", 401, 190),
        ({**TEXT, "text": {"body": "x" * 4097}}, TOKEN, 400, 100),
        ({**TEXT, "messaging_product": "sms", "text": {"body": "x"}}, TOKEN, 400, 100),
        ({**TEXT, "to": "not-a-number", "text": {"body": "x"}}, TOKEN, 400, 100),
        ({**TEXT, "type": "template", "template": {"name": "nope", "language": {"code": "en_US"}}},
         TOKEN, 404, 132001),
        ({**TEXT, "type": "template", "template": {"name": "hi", "language": {"code": "en_US"}}},
         TOKEN, 400, 132000),
    ],
)  # fmt: skip
def test_error_shapes(
    wa: httpx.Client, body: dict[str, object], token: str, status: int, code: int
) -> None:
    answer = _send(wa, body, token)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == code and error["message"] and error["fbtrace_id"]


def test_accepted_send_and_throughput_limit(wa: httpx.Client) -> None:
    wa.post("/_emulator/rate_limit", json={"limit": 1, "window_seconds": 60})
    ok = _send(wa, {**TEXT, "text": {"body": "hello"}})
    assert ok.status_code == 200
    assert ok.json()["contacts"] == [{"input": "4915112345", "wa_id": "4915112345"}]
    assert ok.json()["messages"][0]["id"].startswith("wamid.")
    limited = _send(wa, {**TEXT, "text": {"body": "again"}})
    assert limited.status_code == 429 and limited.json()["error"]["code"] == 130429
    assert limited.headers["retry-after"] == "1"


def test_a_wrong_appsecret_proof_is_refused(wa: httpx.Client) -> None:
    good = appsecret_proof(SECRET, TOKEN)
    sent = wa.post(PATH, params={"appsecret_proof": good}, json={**TEXT, "text": {"body": "a"}},
                   headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert sent.status_code == 200
    bad = wa.post(PATH, params={"appsecret_proof": "0" * 64}, json={**TEXT, "text": {"body": "a"}},
                  headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert bad.status_code == 400


def test_connector_against_the_emulator(wa: httpx.Client) -> None:
    account = AccountRef(1, WHATSAPP, NUMBER, "+1555", secrets={"access_token": TOKEN})
    request = OutboundRequest(
        kind=ReplyKind.DIRECT_MESSAGE, body="Hi there", idempotency_key="k",
        conversation_id=f"{NUMBER}:4915112345",
        template=MessageTemplate("hi", "en_US", ("there",)),
    )  # fmt: skip

    async def scenario() -> tuple[str, SendError, SendError]:
        async with WhatsAppConnector(SECRET, base_url=str(wa.base_url)) as connector:
            result = await connector.send(account, request)
            wa.post("/_emulator/faults", json={"status": 500, "code": 131000})
            try:
                await connector.send(account, request)
            except SendError as exc:
                transient = exc
            wa.post("/_emulator/rate_limit", json={"limit": 0, "window_seconds": 60})
            try:
                await connector.send(account, request)
            except SendError as exc:
                limited = exc
            assert connector.rate_limit(account).remaining == 0
            return result.platform_message_id, transient, limited

    wamid, transient, limited = asyncio.run(scenario())
    assert wamid.startswith("wamid.")
    [sent] = wa.get("/_emulator/sent").json()
    assert sent["to"] == "4915112345" and sent["template"]["name"] == "hi"
    assert transient.failure is SendFailure.RETRYABLE and transient.code == "131000"
    assert limited.failure is SendFailure.RATE_LIMITED and limited.retry_at is not None


def test_the_cli_finds_the_emulator_through_the_descriptor() -> None:
    from socialdesk.cli import _descriptor_emulator

    app = _descriptor_emulator("whatsapp", SECRET, "http://127.0.0.1:9/hooks/whatsapp")
    assert app.state.whatsapp.webhook_url == "http://127.0.0.1:9/hooks/whatsapp"
