"""WhatsApp end to end over real HTTP: the customer writes on the Cloud API emulator, the
signed webhook opens a ticket, the agent answers through the REST API, the reply reaches
the emulator in the Cloud API's format, and its statuses come back by webhook. Outside
the 24-hour window only an approved template goes out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from socialdesk.channels.whatsapp.emulator import create_whatsapp_emulator
from socialdesk.config import Settings
from socialdesk.emulators.server import serve_app
from tests.delivery.helpers import admin_api, eventually

__all__ = ["admin_api"]  # a pytest fixture

APP_SECRET = "whatsapp_app_secret"
NUMBER_ID = "106540352242922"
TOKEN = "EAAG-system-user-token"
CUSTOMER = "16315551234"
TEMPLATES = [
    {"name": "ticket_update", "language": "en_US", "body": "Update on your request: {{1}}"},
    {"name": "still_there", "language": "en_US", "body": "Are you still there?"},
]
DAY = 24 * 3600


@dataclass
class Desk:
    api: httpx.Client
    wa: httpx.Client

    def customer_writes(self, text: str, **extra: Any) -> dict[str, Any]:
        answer = self.wa.post(
            "/_emulator/customer_message",
            json={"phone_number_id": NUMBER_ID, "from": CUSTOMER, "name": "Kerry", **extra}
            | ({"text": text} if text else {}),
        ).json()
        assert answer["delivery_status"] == 200, answer
        return dict(answer)

    def ticket(self) -> dict[str, Any]:
        data = eventually(
            lambda: self.api.get("/tickets", params={"channel": "whatsapp"}).json()["data"]
        )
        return dict(data[0])

    def messages(self, ticket_id: int) -> list[dict[str, Any]]:
        return list(self.api.get(f"/tickets/{ticket_id}").json()["messages"])

    def sent(self) -> list[dict[str, Any]]:
        return list(self.wa.get("/_emulator/sent").json())


@pytest.fixture
def desk(admin_api: Callable[[Settings], Any]) -> Iterator[Desk]:
    with (
        serve_app(create_whatsapp_emulator(APP_SECRET, status_delay_seconds=0.2)) as wa_url,
        httpx.Client(base_url=wa_url) as wa,
    ):
        wa.post(
            "/_emulator/numbers",
            json={"phone_number_id": NUMBER_ID, "access_token": TOKEN, "templates": TEMPLATES},
        )
        settings = Settings(
            meta_app_secret=APP_SECRET,
            meta_verify_token="vt",
            meta_graph_base_url=wa_url,
        )
        base, api = admin_api(settings)
        created = api.post(
            "/channel-accounts",
            json={
                "platform": "whatsapp",
                "handle": "+1 555 000 0000",
                "external_id": NUMBER_ID,
                "secrets": {"access_token": TOKEN},
                "settings": {"templates": TEMPLATES},
            },
        )
        assert created.status_code == 201, created.text
        wa.put("/_emulator/webhook", json={"url": base + "/hooks/whatsapp"})
        yield Desk(api, wa)


def test_text_in_reply_out_and_its_statuses_come_back(desk: Desk) -> None:
    desk.customer_writes("Hi, my order #4411 never arrived")
    ticket = desk.ticket()
    assert ticket["subject"].startswith("Hi, my order #4411")
    [inbound] = desk.messages(ticket["id"])
    assert inbound["visibility"] == "private"

    reply = desk.api.post(f"/tickets/{ticket['id']}/replies", json={"body": "Sorry! Checking."})
    assert reply.status_code == 201, reply.text
    [sent] = eventually(desk.sent)
    assert sent["to"] == CUSTOMER
    assert sent["messaging_product"] == "whatsapp"
    assert sent["type"] == "text" and sent["text"]["body"] == "Sorry! Checking."

    def delivered() -> dict[str, Any] | None:
        out = desk.messages(ticket["id"])[-1]
        return out if out["network_status"] == "delivered" else None

    out = eventually(delivered)
    assert out["delivery_state"] == "sent" and out["platform_message_id"] == sent["id"]
    desk.wa.post("/_emulator/read", json={"id": sent["id"]})
    eventually(lambda: desk.messages(ticket["id"])[-1]["network_status"] == "read")


def test_media_message_becomes_a_readable_message_with_its_attachment(desk: Desk) -> None:
    desk.customer_writes(
        "", media={"type": "image", "caption": "The box was crushed", "mime_type": "image/png"}
    )
    ticket = desk.ticket()
    [message] = desk.messages(ticket["id"])
    assert message["body"] == "The box was crushed\n[image]"
    [attachment] = message["attachments"]
    assert attachment["kind"] == "image" and attachment["mime_type"] == "image/png"


def test_outside_the_window_only_an_approved_template_goes_out(desk: Desk) -> None:
    desk.wa.post("/_emulator/clock", json={"advance_seconds": -(DAY + 3600)})
    desk.customer_writes("Is anyone there?")  # written 25 hours ago
    desk.wa.post("/_emulator/clock", json={"advance_seconds": DAY + 3600})
    ticket = desk.ticket()
    replies = f"/tickets/{ticket['id']}/replies"

    refused = desk.api.post(replies, json={"body": "Sorry for the wait!"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "outside_window"
    assert "24-hour customer-service window closed" in refused.json()["error"]["reason"]
    assert refused.json()["error"]["details"] == {"templates": ["ticket_update", "still_there"]}
    unknown = desk.api.post(replies, json={"body": "Hello", "template": "promo_blast"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "template_refused"
    assert desk.sent() == [] and len(desk.messages(ticket["id"])) == 1

    accepted = desk.api.post(
        replies, json={"body": "your refund was issued", "template": "ticket_update"}
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["body"] == "Update on your request: your refund was issued"
    [sent] = eventually(desk.sent)
    assert sent["type"] == "template"
    assert sent["template"]["name"] == "ticket_update"
    assert sent["template"]["language"] == {"code": "en_US"}
    assert sent["template"]["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "your refund was issued"}]}
    ]
    eventually(lambda: desk.messages(ticket["id"])[-1]["network_status"] == "delivered")


def test_a_send_the_network_fails_later_is_marked_failed_with_its_reason(desk: Desk) -> None:
    desk.customer_writes("Hello?")
    ticket = desk.ticket()
    # Our clock says the window is open; the network's says it closed (clocks differ).
    desk.wa.post("/_emulator/clock", json={"advance_seconds": DAY + 60})
    assert (
        desk.api.post(f"/tickets/{ticket['id']}/replies", json={"body": "Here!"}).status_code == 201
    )

    def failed() -> dict[str, Any] | None:
        out = desk.messages(ticket["id"])[-1]
        return out if out["delivery_state"] == "failed" else None

    out = eventually(failed)
    assert "131047" in out["delivery_error"] and "24 hours" in out["delivery_error"]


def test_throughput_limit_is_waited_out_and_both_replies_go(desk: Desk) -> None:
    desk.customer_writes("Two questions")
    ticket = desk.ticket()
    desk.wa.post("/_emulator/rate_limit", json={"limit": 1, "window_seconds": 1})
    for body in ("First answer", "Second answer"):
        posted = desk.api.post(
            f"/tickets/{ticket['id']}/replies", json={"body": body, "confirm": True}
        )
        assert posted.status_code == 201
    sent = eventually(lambda: len(desk.sent()) == 2 and desk.sent(), timeout=30)
    assert sorted(s["text"]["body"] for s in sent) == ["First answer", "Second answer"]
    requests = desk.wa.get("/_emulator/requests").json()
    assert requests["POST /v21.0/{phone_number_id}/messages"] >= 3  # one refused with 429
