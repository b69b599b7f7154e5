"""Bluesky direct messages end to end over real HTTP: the customer writes to the brand on
the emulated chat service, the poller turns it into a private ticket, the agent answers
through the REST API and the delivery worker puts the answer in the customer's convo.
A public mention moved to private continues in the same ticket when the customer answers
by DM, and a replayed chat log creates nothing twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from socialdesk.actions import tickets as ticket_actions
from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.channels.base import AccountRef, OutboundRequest, ReplyKind
from socialdesk.channels.bluesky.connector import EPOCH_CURSOR, BlueskyConnector
from socialdesk.channels.bluesky.emulator import create_bluesky_app
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.config import Settings
from socialdesk.delivery.worker import Claim, DeliveryWorker
from socialdesk.domain.enums import Platform, Role, Visibility
from socialdesk.loopback import serve_app
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.polling import poll_account
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import ChannelAccount, Message, Ticket, User
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from tests.delivery.helpers import connect_bluesky_brand, eventually

PASSWORD = "correct horse battery"


class Desk:
    """socialdesk (API + workers) and a Bluesky emulator, both on loopback."""

    def __init__(self, api: httpx.Client, pds: httpx.Client, emulator: Any) -> None:
        self.api = api
        self.pds = pds
        self.emulator = emulator

    def connect(self) -> int:
        return connect_bluesky_brand(self.api, self.emulator, str(self.pds.base_url))

    def customer(self, path: str, body: dict[str, Any]) -> Any:
        response = self.pds.post(f"/_emulator/customer/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def tickets(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.api.get("/tickets", params={"channel": "bluesky"}).json()[
            "data"
        ]
        return data

    def detail(self, ticket_id: int) -> dict[str, Any]:
        detail: dict[str, Any] = self.api.get(f"/tickets/{ticket_id}").json()
        return detail

    def dm_sends(self) -> list[dict[str, Any]]:
        sent = self.pds.get("/_emulator/sent").json()
        return [s for s in sent if s["endpoint"] == "chat.bsky.convo.sendMessage"]

    def delivered(self, ticket_id: int) -> dict[str, Any]:
        """The ticket once its newest outbound message is sent (fails on a failure)."""

        def probe() -> dict[str, Any] | None:
            detail = self.detail(ticket_id)
            outbound = [m for m in detail["messages"] if m["direction"] == "outbound"]
            assert not outbound or outbound[-1]["delivery_state"] != "failed", outbound[-1]
            return detail if outbound and outbound[-1]["delivery_state"] == "sent" else None

        result: dict[str, Any] = eventually(probe)
        return result


@pytest.fixture
def desk(db: Database) -> Iterator[Desk]:
    with db.write() as s:
        create_user(s, "admin@example.com", PASSWORD, Role.ADMIN, workspace=ensure_workspace(s))
    pds_app = create_bluesky_app()
    with (
        serve_app(pds_app) as pds_url,
        serve(create_app(Settings(), db)) as base,
        httpx.Client(base_url=pds_url, timeout=30) as pds,
        httpx.Client(base_url=base + "/api/v1", timeout=30) as api,
    ):
        token = api.post("/auth/token", json={"email": "admin@example.com", "password": PASSWORD})
        api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield Desk(api, pds, pds_app.state.emulator)


def test_customer_dm_becomes_a_private_ticket_answered_in_the_same_convo(
    desk: Desk, db: Database
) -> None:
    account_id = desk.connect()
    first = desk.customer(
        "dm",
        {"handle": "dana.bsky.social", "display_name": "Dana", "text": "My order 5512 is late"},
    )
    second = desk.customer("dm", {"handle": "dana.bsky.social", "text": "It was due Monday"})

    [ticket] = eventually(
        lambda: [t for t in desk.tickets() if t["message_count"] == 2] and desk.tickets()
    )
    assert ticket["subject"].startswith("My order 5512 is late")
    assert ticket["contact"]["display_name"] == "Dana"
    detail = desk.detail(ticket["id"])
    assert [(m["direction"], m["visibility"]) for m in detail["messages"]] == [
        ("inbound", "private"),
        ("inbound", "private"),
    ]
    assert [m["platform_message_id"] for m in detail["messages"]] == [
        first["message_id"],
        second["message_id"],
    ]
    assert {m["conversation_id"] for m in detail["messages"]} == {first["convo_id"]}
    [identity] = detail["contact_detail"]["identities"]
    assert identity["handle"] == "dana.bsky.social"

    answer = desk.api.post(
        f"/tickets/{ticket['id']}/replies",
        json={"body": "Sorry Dana, it ships today. Tracking follows.", "visibility": "private"},
    )
    assert answer.status_code == 201, answer.text
    detail = desk.delivered(ticket["id"])
    [sent] = desk.dm_sends()
    assert sent["convo_id"] == first["convo_id"]
    assert sent["body"]["message"] == {"text": "Sorry Dana, it ships today. Tracking follows."}
    reply = detail["messages"][-1]
    assert reply["platform_message_id"] == sent["message_id"]
    assert reply["visibility"] == "private" and reply["conversation_id"] == first["convo_id"]

    # The customer answers. By the time that arrives the poller has also read our own
    # message back from the log: it must not appear twice.
    desk.customer("dm", {"handle": "dana.bsky.social", "text": "Great, thanks!"})
    detail = eventually(
        lambda: (d := desk.detail(ticket["id"]))["messages"][-1]["body"] == "Great, thanks!" and d
    )
    assert [m["direction"] for m in detail["messages"]] == [
        "inbound",
        "inbound",
        "outbound",
        "inbound",
    ]
    assert len(desk.tickets()) == 1

    # A crash before the cursor was stored: the whole log is read again.
    with db.write() as s:
        s.execute(
            update(ChannelAccount)
            .where(ChannelAccount.id == account_id)
            .values(poll_cursor=EPOCH_CURSOR)
        )
    eventually(lambda: _cursor(db, account_id) not in (None, EPOCH_CURSOR))
    with db.session() as s:
        stored = s.scalars(select(Message.platform_message_id).order_by(Message.id)).all()
        tickets = s.scalars(select(Ticket.id)).all()
    assert len(stored) == len(set(stored)) == 4
    assert tickets == [ticket["id"]]


def _cursor(db: Database, account_id: int) -> str | None:
    with db.session() as s:
        return s.scalar(select(ChannelAccount.poll_cursor).where(ChannelAccount.id == account_id))


def test_mention_moved_to_private_continues_in_the_same_ticket(desk: Desk) -> None:
    desk.connect()
    mention = desk.customer(
        "mention", {"handle": "fay.bsky.social", "text": "my parcel arrived damaged"}
    )
    [ticket] = eventually(desk.tickets)
    customer_did = mention["uri"].split("/")[2]

    moved = desk.api.post(
        f"/tickets/{ticket['id']}/move-to-private",
        json={"mode": "dm", "body": "Hi Fay, sorry! Could you send us your order number here?"},
    )
    assert moved.status_code == 201, moved.text
    assert moved.json()["visibility"] == "private"
    detail = desk.delivered(ticket["id"])
    [convo] = desk.pds.get("/_emulator/convos").json()
    assert customer_did in convo["members"] and desk.emulator.brand_did in convo["members"]
    assert [m["text"] for m in convo["messages"]] == [
        "Hi Fay, sorry! Could you send us your order number here?"
    ]
    assert detail["messages"][-1]["conversation_id"] == convo["id"]
    # Nothing went out in public.
    assert not [s for s in desk.pds.get("/_emulator/sent").json() if "createRecord" in str(s)]

    answer = desk.customer("dm", {"handle": "fay.bsky.social", "text": "Order 9034"})
    assert answer["convo_id"] == convo["id"]
    detail = eventually(
        lambda: (d := desk.detail(ticket["id"]))["messages"][-1]["body"] == "Order 9034" and d
    )
    assert [(m["direction"], m["visibility"]) for m in detail["messages"]] == [
        ("inbound", "public"),
        ("outbound", "private"),
        ("inbound", "private"),
    ]
    assert [t["id"] for t in desk.tickets()] == [ticket["id"]]
    assert "moved_to_private" in str(desk.api.get(f"/tickets/{ticket['id']}/events").json())


def test_a_dm_the_brand_sent_elsewhere_is_not_taken_for_the_customer(desk: Desk) -> None:
    """Our own messages come back through the chat log. One socialdesk has no record of
    (typed in the Bluesky app, or read before the worker stored the id it sent) must not
    become a customer message."""
    desk.connect()
    first = desk.customer("dm", {"handle": "gil.bsky.social", "text": "Is my refund done?"})
    eventually(desk.tickets)
    brand = AccountRef(
        id=0,
        platform=Platform.BLUESKY,
        external_id=desk.emulator.brand_did,
        handle=desk.emulator.brand_handle,
        secrets={"app_password": desk.emulator.app_password},
    )

    async def send_from_the_app() -> None:
        async with BlueskyConnector(str(desk.pds.base_url)) as app:
            await app.send(
                brand,
                OutboundRequest(
                    kind=ReplyKind.DIRECT_MESSAGE,
                    body="Yes, it went out yesterday.",
                    idempotency_key="elsewhere",
                    conversation_id=first["convo_id"],
                    visibility=Visibility.PRIVATE,
                ),
            )

    asyncio.run(send_from_the_app())
    desk.customer("dm", {"handle": "gil.bsky.social", "text": "Thank you"})
    [ticket] = eventually(
        lambda: [t for t in desk.tickets() if t["message_count"] >= 2] and desk.tickets()
    )
    time.sleep(0.5)  # a few more poll rounds
    detail = desk.detail(ticket["id"])
    assert [(m["direction"], m["body"]) for m in detail["messages"]] == [
        ("inbound", "Is my refund done?"),
        ("inbound", "Thank you"),
    ]
    assert len(desk.dm_sends()) == 1


def test_an_app_password_without_dm_access_asks_for_a_new_one(desk: Desk) -> None:
    desk.emulator.dm_access = False
    account_id = desk.connect()
    account = eventually(
        lambda: (
            (a := desk.api.get(f"/channel-accounts/{account_id}").json())["status"]
            == "needs_reauth"
            and a
        )
    )
    assert account["needs_reauthorization"] is True
    assert "does not allow direct messages" in account["status_reason"]


def fresh() -> ConnectorRegistry:
    """Connectors for one ``asyncio.run`` (their HTTP clients belong to its loop)."""
    return ConnectorRegistry(Settings())


def test_worker_killed_after_send_message_sends_the_dm_once(db: Database) -> None:
    """``sendMessage`` has no idempotency key: a worker that died between Bluesky's
    answer and our commit must find the DM in the convo instead of sending it again."""
    pds_app = create_bluesky_app()
    emulator = pds_app.state.emulator
    with serve_app(pds_app) as pds_url, httpx.Client(base_url=pds_url) as pds:
        with db.write() as s:
            workspace = ensure_workspace(s)
            create_user(s, "agent@example.com", PASSWORD, Role.AGENT, workspace=workspace)
            account_id = create_channel_account(
                s,
                None,
                workspace_id=workspace.id,
                platform=Platform.BLUESKY,
                handle=emulator.brand_handle,
                external_id=emulator.brand_did,
                secrets={"app_password": emulator.app_password},
                settings={"base_url": pds_url},
            ).id
        # The same words went out earlier in this convo: that answer must not be taken
        # for the lost one.
        first = pds.post(
            "/_emulator/customer/dm", json={"handle": "hal.bsky.social", "text": "hello?"}
        ).json()
        outcome = asyncio.run(poll_account(db, Pipeline(), fresh(), account_id))
        assert outcome.stored == 1, outcome
        with db.write() as s:
            ticket = s.scalar(select(Ticket))
            agent = s.scalar(select(User))
            assert ticket is not None and agent is not None
            earlier = ticket_actions.reply(
                s, ticket, agent, "On it!", visibility=Visibility.PRIVATE
            ).id
        assert asyncio.run(DeliveryWorker(db, fresh()).run_once()) == 1
        pds.post("/_emulator/customer/dm", json={"handle": "hal.bsky.social", "text": "and?"})
        assert asyncio.run(poll_account(db, Pipeline(), fresh(), account_id)).stored == 1
        with db.write() as s:
            ticket = s.scalar(select(Ticket))
            agent = s.scalar(select(User))
            assert ticket is not None and agent is not None
            lost = ticket_actions.reply(
                s, ticket, agent, "On it!", visibility=Visibility.PRIVATE
            ).id

        async def crash(_claim: Claim, _result: Any) -> None:
            raise KeyboardInterrupt  # the process dies after Bluesky accepted the DM

        with pytest.raises(KeyboardInterrupt):
            asyncio.run(DeliveryWorker(db, fresh(), after_send=crash).run_once())
        sends = [s for s in emulator.sent if s["endpoint"] == "chat.bsky.convo.sendMessage"]
        assert len(sends) == 2

        later = DeliveryWorker(db, fresh(), clock=lambda: utcnow() + timedelta(minutes=5))
        assert asyncio.run(later.run_once()) == 1
        later = DeliveryWorker(db, fresh(), clock=lambda: utcnow() + timedelta(minutes=5))
        sends = [s for s in emulator.sent if s["endpoint"] == "chat.bsky.convo.sendMessage"]
        assert len(sends) == 2  # found in the convo, not sent again
        with db.session() as s:
            recorded = {m.id: m for m in s.scalars(select(Message))}
        assert recorded[lost].delivery_state == "sent"
        assert recorded[lost].platform_message_id == sends[1]["message_id"]
        assert recorded[earlier].platform_message_id == sends[0]["message_id"]
        assert {sends[0]["convo_id"], sends[1]["convo_id"]} == {first["convo_id"]}

        # A worker that died after claiming but before sending: the same words are in the
        # convo, but only before the customer's newest message, so the DM is sent.
        pds.post("/_emulator/customer/dm", json={"handle": "hal.bsky.social", "text": "hi?"})
        assert asyncio.run(poll_account(db, Pipeline(), fresh(), account_id)).stored == 1
        with db.write() as s:
            ticket = s.scalar(select(Ticket))
            agent = s.scalar(select(User))
            assert ticket is not None and agent is not None
            unsent = ticket_actions.reply(
                s, ticket, agent, "On it!", visibility=Visibility.PRIVATE
            ).id
        assert len(DeliveryWorker(db, fresh()).claim()) == 1  # ...and the process dies
        assert asyncio.run(later.run_once()) == 1
        sends = [s for s in emulator.sent if s["endpoint"] == "chat.bsky.convo.sendMessage"]
        assert len(sends) == 3
        with db.session() as s:
            message = s.get(Message, unsent)
            assert message is not None and message.platform_message_id == sends[2]["message_id"]
