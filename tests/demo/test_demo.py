"""`socialdesk demo` end to end on a temporary database: the emulators start in-process,
every demo account is connected to them, a reply typed by an agent reaches the network
and shows "sent", and a simulated customer's post becomes a ticket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.cli_demo import DemoSession
from socialdesk.demo.content import SOCIAL_NETWORKS, customer_posts
from socialdesk.demo.customers import post_as_customer
from socialdesk.store.db import Database
from socialdesk.store.models import CannedResponse, Message, Ticket
from tests.delivery.helpers import eventually
from tests.demo.conftest import signed_in_api as _api
from tests.web.test_pages import sign_in

NETWORKS = ("x", "facebook", "messenger", "instagram", "mastodon", "bluesky", "email", "web")


def _tickets(api: httpx.Client, channel: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.get(
        "/tickets", params={"channel": channel, "status": "unsolved", "limit": 100}
    ).json()["data"]
    return found


def _reply_and_settle(api: httpx.Client, ticket_id: int, body: str) -> dict[str, Any]:
    created = api.post(f"/tickets/{ticket_id}/replies", json={"body": body, "confirm": True})
    assert created.status_code == 201, created.text

    def settled() -> dict[str, Any] | None:
        message: dict[str, Any] = api.get(f"/tickets/{ticket_id}").json()["messages"][-1]
        return message if message["delivery_state"] in ("sent", "failed") else None

    message: dict[str, Any] = eventually(settled)
    return message


def test_a_demo_reply_reaches_the_emulator_and_shows_sent(demo: DemoSession) -> None:
    admin = _api(demo, "admin@example.com")
    accounts = admin.get("/channel-accounts").json()
    assert len(accounts) > 8  # the replayed brands and one demo account per network
    assert {a["status"] for a in accounts} == {"active"}

    agent = _api(demo, "agent@example.com")
    replayed = next(t for t in _tickets(agent, "x") if t["subject"].startswith("@"))
    customer_post = [
        m
        for m in agent.get(f"/tickets/{replayed['id']}").json()["messages"]
        if m["direction"] == "inbound"
    ][-1]
    answer = _reply_and_settle(agent, replayed["id"], "So sorry, we're on it. Check your DMs.")
    assert answer["delivery_state"] == "sent", answer
    sent = httpx.get(demo.networks.x_url + "/_emulator/sent", timeout=30).json()
    [tweet] = [s for s in sent if s["id"] == answer["platform_message_id"]]
    assert tweet["body"]["text"].endswith("So sorry, we're on it. Check your DMs.")
    assert tweet["body"]["reply"]["in_reply_to_tweet_id"] == customer_post["platform_message_id"]

    # The demo's customers wrote on every other network too, and answers go out there.
    for channel in NETWORKS[1:]:
        ticket = eventually(lambda channel=channel: _tickets(agent, channel))[0]
        answer = _reply_and_settle(agent, ticket["id"], "Thanks, we're looking into it.")
        assert answer["delivery_state"] == "sent", (channel, answer)


@pytest.mark.parametrize("network", ["x", "messenger", "mastodon", "email", "web"])
def test_a_simulated_customer_post_becomes_a_ticket(demo: DemoSession, network: str) -> None:
    state = json.loads(demo.state_file.read_text(encoding="utf-8"))
    text = f"Order 4411 never arrived, can you check? ({network})"
    post_as_customer(state, network, text, customer="Carla Diaz")
    agent = _api(demo, "agent@example.com")
    found = eventually(
        lambda: [t for t in _tickets(agent, network) if "Order 4411" in t["subject"]]
    )
    assert len(found) == 1
    # and the customer's next post joins the same conversation
    post_as_customer(state, network, f"Any news? ({network})", customer="Carla Diaz")
    eventually(
        lambda: any(
            "Any news?" in m["body"]
            for m in agent.get(f"/tickets/{found[0]['id']}").json()["messages"]
        )
    )


def test_the_demo_content_is_there_and_no_text_shows_html_entities(
    demo: DemoSession, db: Database, data_dir: Path
) -> None:
    posts = customer_posts(data_dir)
    assert {p.network for p in posts} == {*SOCIAL_NETWORKS, "email", "web"}
    with db.session() as s:
        canned = list(s.scalars(select(CannedResponse)))
        texts = [*s.scalars(select(Message.body)), *s.scalars(select(Ticket.subject))]
    assert len(canned) >= 5
    assert all(c.short_body and len(c.short_body) < len(c.body) for c in canned)
    assert len(texts) > 60
    for entity in ("&amp;", "&gt;", "&lt;", "&quot;"):
        assert not [t for t in texts if entity in t], entity
    assert not [p for p in posts if "&amp;" in p.text]


def test_simulate_customer_without_a_running_demo_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "simulate-customer",
            "--network",
            "x",
            "--text",
            "hello",
            "--state-file",
            str(tmp_path / "none.json"),
        ],
    )
    assert result.exit_code == 2
    assert "start `socialdesk demo` first" in result.output
    unknown = CliRunner().invoke(app, ["simulate-customer", "--network", "myspace", "--text", "x"])
    assert unknown.exit_code == 2 and "unknown network 'myspace'" in unknown.output


def test_the_customer_simulator_page(demo: DemoSession) -> None:
    agent = _api(demo, "agent@example.com")
    with httpx.Client(base_url=demo.url, timeout=20) as browser:
        csrf = sign_in(browser, "agent@example.com", "socialdesk")
        page = browser.get("/demo/customer")
        assert page.status_code == 200
        assert '<option value="instagram-dm">' in page.text
        sent = browser.post(
            "/demo/customer",
            data={
                "csrf_token": csrf,
                "network": "bluesky",
                "customer": "Kai Lindqvist",
                "text": "My order 5521 shows delivered but nothing came",
            },
        )
        assert sent.status_code == 303
        assert "Kai Lindqvist sent a Bluesky post" in browser.get(sent.headers["location"]).text
        eventually(lambda: [t for t in _tickets(agent, "bluesky") if "5521" in t["subject"]])

        unknown = browser.post(
            "/demo/customer", data={"csrf_token": csrf, "network": "myspace", "text": "hi"}
        )
        assert unknown.status_code == 422 and "unknown network" in unknown.text
        forged = browser.post("/demo/customer", data={"network": "x", "text": "hi"})
        assert forged.status_code in (400, 403)
