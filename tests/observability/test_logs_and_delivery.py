"""JSON logs and delivery metrics end to end: a customer writes on the Meta emulator
(a signed webhook), an agent answers through the API, the delivery worker sends the
reply to the emulator; the numbers move and every log line carries its ids. And what
must never reach a log: passwords, API tokens, webhook signatures, bearer headers."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import httpx
import pytest

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.channels.signatures import x_signature
from socialdesk.config import Settings
from socialdesk.domain.enums import Role
from socialdesk.observability.logs import configure_logging, remove_logging
from socialdesk.store.db import Database
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from tests.delivery.helpers import admin_api, eventually
from tests.delivery.test_round_trips_via_api import MetaDesk, meta_desk
from tests.observability.test_endpoints import scrape, value

__all__ = ["admin_api", "meta_desk"]  # pytest fixtures


@pytest.fixture
def json_log() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """JSON logging (DEBUG and up) into a buffer; the lines parsed so far."""
    stream = StringIO()
    handler = configure_logging("json", "DEBUG", stream)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    remove_logging(handler)
    logging.getLogger().setLevel(logging.WARNING)


def test_a_reply_moves_the_delivery_numbers_and_its_lines_carry_the_ids(
    meta_desk: MetaDesk, json_log: Callable[[], list[dict[str, Any]]]
) -> None:
    base = str(meta_desk.api.base_url).removesuffix("/").removesuffix("/api/v1")
    with httpx.Client(base_url=base, timeout=30) as ops:
        before = scrape(ops)
        meta_desk.customer("messenger_dm", customer={"name": "Lucía"}, text="¿Mi pedido?")
        ticket = meta_desk.only_ticket("messenger")
        created = meta_desk.api.post(
            f"/tickets/{ticket['id']}/replies",
            json={"body": "Sale mañana."},
            headers={"X-Request-ID": "reply-req-1"},
        )
        assert created.status_code == 201, created.text
        assert created.headers["x-request-id"] == "reply-req-1"

        def sent() -> bool:
            detail = meta_desk.api.get(f"/tickets/{ticket['id']}").json()
            return bool(detail["messages"][-1]["delivery_state"] == "sent")

        eventually(sent)
        sends = ("socialdesk_delivery_outcomes_total", {"network": "messenger", "outcome": "sent"})

        def counted() -> dict[Any, float] | None:
            # Counted just after the commit the API already reads: wait for it.
            samples = scrape(ops)
            counted = value(samples, sends[0], **sends[1]) > value(before, sends[0], **sends[1])
            # The worker counts its pass when the pass ends, a moment after the send.
            passes = ("socialdesk_worker_passes_total", {"worker": "delivery", "outcome": "ok"})
            passed = value(samples, passes[0], **passes[1]) > value(before, passes[0], **passes[1])
            return samples if counted and passed else None

        after = eventually(counted)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("socialdesk_delivery_outcomes_total", network="messenger", outcome="sent") == 1
    assert moved("socialdesk_delivery_latency_seconds_count", network="messenger") == 1
    assert moved("socialdesk_delivery_outcomes_total", network="messenger", outcome="failed") == 0
    assert moved("socialdesk_webhook_requests_total", source="meta", outcome="stored") >= 1
    assert value(after, "socialdesk_outbox", state="queued") == 0
    assert value(after, "socialdesk_outbox", state="sending") == 0
    assert moved("socialdesk_worker_passes_total", worker="delivery", outcome="ok") >= 1

    lines = json_log()
    [access] = [
        line
        for line in lines
        if line["logger"] == "socialdesk.access" and line["request_id"] == "reply-req-1"
    ]
    assert access["path"] == f"/api/v1/tickets/{ticket['id']}/replies"
    assert access["status"] == 201 and access["ticket_id"] == ticket["id"]
    [delivered] = [
        line
        for line in lines
        if line["logger"] == "socialdesk.delivery" and ": sent" in line["message"]
    ]
    assert delivered["ticket_id"] == ticket["id"]
    assert isinstance(delivered["account_id"], int)
    assert delivered["request_id"] is None  # the worker's line, outside any request
    for line in lines:  # every line has every id field, null when none is in scope
        assert {"request_id", "ticket_id", "account_id", "raw_event_id"} <= line.keys()
    # Requests without an X-Request-ID get one of their own.
    ids = {line["request_id"] for line in lines if line["logger"] == "socialdesk.access"}
    assert len(ids) > 1 and None not in ids


def test_secrets_never_reach_the_log(
    db: Database, json_log: Callable[[], list[dict[str, Any]]]
) -> None:
    password = "correct horse battery staple"
    consumer_secret = "x-consumer-secret-do-not-log"
    with db.write() as s:
        create_user(s, "agent@example.com", password, Role.AGENT, workspace=ensure_workspace(s))
    body = json.dumps({"for_user_id": "1", "tweet_create_events": []}).encode()
    signature = x_signature(consumer_secret, body)
    hook_bearer = "hook-bearer-value-7731"
    settings = Settings(x_consumer_secret=consumer_secret, run_workers=False)
    with (
        serve(create_app(settings, db)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        issued = client.post(
            "/api/v1/auth/token", json={"email": "agent@example.com", "password": password}
        )
        assert issued.status_code == 200, issued.text
        token = issued.json()["access_token"]
        wrong = client.post(
            "/api/v1/auth/token", json={"email": "agent@example.com", "password": password + "!"}
        )
        assert wrong.status_code == 401
        listed = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200
        hooked = client.post(
            f"/hooks/x?access_token={hook_bearer}",
            content=body,
            headers={
                "content-type": "application/json",
                "x-twitter-webhooks-signature": signature,
                "Authorization": f"Bearer {hook_bearer}",
            },
        )
        assert hooked.status_code == 200, hooked.text
        # A library (or a careless line of ours) logging a URL or headers with secrets:
        logging.getLogger("socialdesk.test").warning(
            "calling https://graph.example/me?access_token=%s with %s",
            token,
            {"password": password},
        )

    text = "\n".join(json.dumps(line) for line in json_log())
    paths = {line.get("path") for line in json_log() if line["logger"] == "socialdesk.access"}
    assert {"/api/v1/auth/token", "/api/v1/tickets", "/hooks/x"} <= paths
    assert "calling https://graph.example/me" in text
    for secret in (password, token, signature, signature.removeprefix("sha256="), hook_bearer):
        assert secret not in text
    assert consumer_secret not in text


def test_a_reply_the_network_cannot_take_counts_as_failed(meta_desk: MetaDesk) -> None:
    base = str(meta_desk.api.base_url).removesuffix("/").removesuffix("/api/v1")
    with httpx.Client(base_url=base, timeout=30) as ops:
        before = scrape(ops)
        meta_desk.advance_clock(-8 * 24 * 3600)  # the DM is past Meta's 7-day window
        meta_desk.customer("messenger_dm", customer={"name": "Lucía"}, text="Hello?")
        meta_desk.advance_clock(8 * 24 * 3600)
        ticket = meta_desk.only_ticket("messenger")
        created = meta_desk.api.post(f"/tickets/{ticket['id']}/replies", json={"body": "Sorry!"})
        assert created.status_code == 201, created.text
        name = "socialdesk_delivery_outcomes_total"
        failed = (name, {"network": "messenger", "outcome": "failed"})

        def counted() -> dict[Any, float] | None:
            samples = scrape(ops)
            done = value(samples, failed[0], **failed[1]) > value(before, failed[0], **failed[1])
            return samples if done else None

        after = eventually(counted)
    assert value(after, failed[0], **failed[1]) - value(before, failed[0], **failed[1]) == 1
    assert value(after, "socialdesk_outbox", state="failed") == 1
    sent = ("socialdesk_delivery_outcomes_total", {"network": "messenger", "outcome": "sent"})
    assert value(after, sent[0], **sent[1]) == value(before, sent[0], **sent[1])
