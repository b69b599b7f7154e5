"""Messenger, Instagram (comments and DMs), Mastodon and e-mail end to end through the
REST API: the customer acts on the emulator (or mails the IMAP server), the app's own
webhook handler or poller turns it into a ticket seen through ``GET /tickets``, the agent
answers with ``POST /tickets/{id}/replies`` without choosing a visibility, and the
emulator records the answer at the right endpoint, for the right recipient and thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from socialdesk.channels.email.emulator import MailEmulator
from socialdesk.channels.mastodon.emulator import create_mastodon_app
from socialdesk.channels.meta.emulator import create_meta_emulator
from socialdesk.config import Settings
from socialdesk.emulators.server import serve_app
from tests.delivery.helpers import admin_api, eventually

__all__ = ["admin_api"]  # a pytest fixture

META_SECRET = "emulated_app_secret"
HOUR = 3600


@dataclass
class MetaDesk:
    """The app (API, webhook, workers) and the Meta emulator with a Page and an IG account
    connected through the API."""

    api: httpx.Client
    meta: httpx.Client
    page_id: str
    ig_id: str

    def customer(self, kind: str, **body: Any) -> dict[str, Any]:
        response = self.meta.post(f"/_emulator/customer/{kind}", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def advance_clock(self, seconds: float) -> None:
        self.meta.post("/_emulator/clock", json={"advance_seconds": seconds}).raise_for_status()

    def only_ticket(self, channel: str) -> dict[str, Any]:
        return only_ticket(self.api, channel)

    def sent(self, endpoint: str) -> list[dict[str, Any]]:
        return [s for s in self.meta.get("/_emulator/sent").json() if s["endpoint"] == endpoint]


def only_ticket(api: httpx.Client, channel: str) -> dict[str, Any]:
    tickets = eventually(lambda: api.get("/tickets", params={"channel": channel}).json()["data"])
    assert [t["platform"] for t in tickets] == [channel]
    ticket: dict[str, Any] = tickets[0]
    return ticket


def reply(api: httpx.Client, ticket_id: int, body: str) -> dict[str, Any]:
    """Answer through the API (no visibility: the API answers the way the customer wrote)
    and wait for the delivery worker to settle the message."""
    created = api.post(f"/tickets/{ticket_id}/replies", json={"body": body})
    assert created.status_code == 201, created.text

    def settled() -> dict[str, Any] | None:
        detail: dict[str, Any] = api.get(f"/tickets/{ticket_id}").json()
        state = detail["messages"][-1]["delivery_state"]
        return detail if state in ("sent", "failed") else None

    detail: dict[str, Any] = eventually(settled)
    return detail


@pytest.fixture
def meta_desk(admin_api: Callable[[Settings], Any]) -> Iterator[MetaDesk]:
    emulator = create_meta_emulator(META_SECRET, verify_token="vt", retry_delay_seconds=0.05)
    with serve_app(emulator) as meta_url, httpx.Client(base_url=meta_url) as meta:
        page = meta.post("/_emulator/accounts", json={"kind": "page", "name": "Acme"}).json()
        ig = meta.post(
            "/_emulator/accounts", json={"kind": "instagram", "name": "acme", "username": "acme"}
        ).json()
        settings = Settings(
            meta_app_secret=META_SECRET, meta_verify_token="vt", meta_graph_base_url=meta_url
        )
        base, api = admin_api(settings)
        for platform, account in (("messenger", page), ("instagram", ig)):
            token = meta.post("/_emulator/tokens", json={"account_id": account["id"]}).json()
            created = api.post(
                "/channel-accounts",
                json={
                    "platform": platform,
                    "handle": account["name"],
                    "external_id": account["id"],
                    "secrets": {"access_token": token["access_token"]},
                },
            )
            assert created.status_code == 201, created.text
        meta.put("/_emulator/webhook", json={"url": base + "/hooks/meta"}).raise_for_status()
        assert meta.post("/_emulator/webhook/verify").json()["valid"] is True
        yield MetaDesk(api, meta, page["id"], ig["id"])


@pytest.mark.parametrize(
    ("hours_ago", "messaging_type", "tag"),
    [
        (0, "RESPONSE", None),
        (30, "MESSAGE_TAG", "HUMAN_AGENT"),
        (6 * 24, "MESSAGE_TAG", "HUMAN_AGENT"),
    ],
    ids=["inside-24h", "after-24h", "within-7d"],
)
def test_messenger_dm_answered_by_dm(
    meta_desk: MetaDesk, hours_ago: int, messaging_type: str, tag: str | None
) -> None:
    # The customer wrote hours_ago: the emulator's clock goes back for the DM (its webhook
    # carries that time) and forward again, so both sides agree how old the DM is.
    meta_desk.advance_clock(-hours_ago * HOUR)
    dm = meta_desk.customer(
        "messenger_dm", customer={"name": "Lucía"}, text="¿Dónde está mi pedido?"
    )
    meta_desk.advance_clock(hours_ago * HOUR)
    ticket = meta_desk.only_ticket("messenger")
    assert ticket["subject"] == "¿Dónde está mi pedido?"

    detail = reply(meta_desk.api, ticket["id"], "Hola Lucía, sale mañana.")

    answer = detail["messages"][-1]
    assert (answer["delivery_state"], answer["visibility"]) == ("sent", "private")
    [sent] = meta_desk.sent("POST /{id}/messages")
    assert answer["platform_message_id"] == sent["id"]
    assert sent["path"].endswith(f"/{meta_desk.page_id}/messages")
    assert sent["body"]["recipient"] == {"id": dm["sender_id"]}
    assert sent["body"]["message"] == {"text": "Hola Lucía, sale mañana."}
    assert sent["body"]["messaging_type"] == messaging_type
    assert sent["body"].get("tag") == tag
    assert meta_desk.sent("POST /{id}/comments") == []


def test_messenger_dm_past_seven_days_is_not_sent(meta_desk: MetaDesk) -> None:
    meta_desk.advance_clock(-8 * 24 * HOUR)
    meta_desk.customer("messenger_dm", customer={"name": "Lucía"}, text="Hello?")
    meta_desk.advance_clock(8 * 24 * HOUR)
    ticket = meta_desk.only_ticket("messenger")

    detail = reply(meta_desk.api, ticket["id"], "Sorry for the wait")

    answer = detail["messages"][-1]
    assert answer["delivery_state"] == "failed"
    assert "outside Meta's messaging window" in answer["delivery_error"]
    assert meta_desk.meta.get("/_emulator/sent").json() == []


def test_instagram_comment_answered_on_the_comment(meta_desk: MetaDesk) -> None:
    comment = meta_desk.customer(
        "ig_comment", customer={"username": "carol"}, text="The strap broke after a week"
    )
    ticket = meta_desk.only_ticket("instagram")
    assert ticket["subject"] == "The strap broke after a week"

    detail = reply(meta_desk.api, ticket["id"], "Sorry Carol! Please send us a DM.")

    answer = detail["messages"][-1]
    assert (answer["delivery_state"], answer["visibility"]) == ("sent", "public")
    [sent] = meta_desk.sent("POST /{id}/replies")
    assert answer["platform_message_id"] == sent["id"]
    assert sent["path"].endswith(f"/{comment['comment_id']}/replies")
    assert sent["body"]["message"] == "Sorry Carol! Please send us a DM."
    assert meta_desk.sent("POST /{id}/messages") == []


def test_instagram_dm_answered_by_dm(meta_desk: MetaDesk) -> None:
    dm = meta_desk.customer("ig_dm", customer={"username": "dave"}, text="Is the blue one back?")
    ticket = meta_desk.only_ticket("instagram")
    assert ticket["subject"] == "Is the blue one back?"

    detail = reply(meta_desk.api, ticket["id"], "Yes, since this morning!")

    answer = detail["messages"][-1]
    assert (answer["delivery_state"], answer["visibility"]) == ("sent", "private")
    [sent] = meta_desk.sent("POST /{id}/messages")
    assert answer["platform_message_id"] == sent["id"]
    assert sent["path"].endswith(f"/{meta_desk.ig_id}/messages")
    assert sent["body"]["recipient"] == {"id": dm["sender_id"]}
    assert sent["body"]["message"] == {"text": "Yes, since this morning!"}
    assert sent["body"]["messaging_type"] == "RESPONSE" and "tag" not in sent["body"]
    assert meta_desk.sent("POST /{id}/replies") == []


def test_mastodon_mention_answered_in_thread(admin_api: Callable[[Settings], Any]) -> None:
    with (
        serve_app(create_mastodon_app()) as url,
        httpx.Client(base_url=url) as instance,
    ):
        brand = instance.get(
            "/api/v1/accounts/verify_credentials", headers={"Authorization": "Bearer brand-token"}
        ).json()
        _base, api = admin_api(Settings())
        created = api.post(
            "/channel-accounts",
            json={
                "platform": "mastodon",
                "handle": f"{brand['username']}@mastodon.example",
                "external_id": brand["id"],
                "secrets": {"access_token": "brand-token"},
                "settings": {"base_url": url, "poll_interval_seconds": 0.2},
            },
        )
        assert created.status_code == 201, created.text
        mention = instance.post(
            "/_emulator/customer/mention",
            json={"username": "ana", "text": "my parcel says delivered but it is not here"},
        ).json()
        ticket = only_ticket(api, "mastodon")
        assert "delivered" in ticket["subject"]

        detail = reply(api, ticket["id"], "Sorry Ana! We opened a trace with the courier.")

        answer = detail["messages"][-1]
        assert (answer["delivery_state"], answer["visibility"]) == ("sent", "public")
        [sent] = instance.get("/_emulator/sent").json()
        assert answer["platform_message_id"] == sent["status"]["id"]
        assert sent["endpoint"] == "POST /api/v1/statuses"
        assert sent["params"]["in_reply_to_id"] == mention["status"]["id"]
        assert sent["params"]["status"].endswith("Sorry Ana! We opened a trace with the courier.")
        assert sent["params"]["status"].startswith("@ana")
        assert sent["idempotency_key"]


def test_email_answered_in_thread(admin_api: Callable[[Settings], Any]) -> None:
    with MailEmulator() as mail:
        _base, api = admin_api(Settings())
        created = api.post(
            "/channel-accounts",
            json={
                "platform": "email",
                "handle": "Acme Support",
                "external_id": mail.address,
                "secrets": mail.account_secrets(),
                "settings": mail.account_settings() | {"poll_interval_seconds": 0.2},
            },
        )
        assert created.status_code == 201, created.text
        customer_id = "<kettle-2.ann@mail.example.org>"
        earlier_id = "<order-4411@acme.test>"
        mail.deliver(
            MailEmulator.customer_mail(
                "ann.lee@example.org",
                "Kettle still leaks",
                "The replacement kettle leaks too.",
                sender_name="Ann Lee",
                to=mail.address,
                message_id=customer_id,
                in_reply_to=earlier_id,
                references=[earlier_id],
            )
        )
        ticket = only_ticket(api, "email")
        assert ticket["subject"] == "Kettle still leaks"

        detail = reply(api, ticket["id"], "We are sending a courier for it, Ann.")

        answer = detail["messages"][-1]
        assert (answer["delivery_state"], answer["visibility"]) == ("sent", "private")
        [sent] = mail.wait_for_sent(1)
        message = sent.message
        assert answer["platform_message_id"] == message["Message-ID"]
        assert sent.rcpt_tos == ("ann.lee@example.org",)
        assert "ann.lee@example.org" in message["To"]
        assert mail.address in message["From"]
        assert message["Subject"] == "Re: Kettle still leaks"
        assert message["In-Reply-To"] == customer_id
        assert message["References"].split() == [earlier_id, customer_id]
        assert "We are sending a courier for it, Ann." in message.get_content()
