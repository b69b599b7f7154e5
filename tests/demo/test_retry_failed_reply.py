"""A failed reply can be sent again, through the API and the conversation page, with
the same rules (only a failed reply; not while its account needs re-authorization),
and it reaches the network the second time."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from socialdesk.cli_demo import DemoSession
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, TicketEvent
from tests.delivery.helpers import eventually
from tests.demo.conftest import signed_in_api
from tests.web.test_pages import sign_in


def _x_ticket(api: httpx.Client) -> dict[str, Any]:
    tickets = api.get("/tickets", params={"channel": "x", "status": "unsolved"}).json()["data"]
    ticket: dict[str, Any] = tickets[0]
    return ticket


def _settled(api: httpx.Client, ticket_id: int, message_id: int) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        messages = api.get(f"/tickets/{ticket_id}").json()["messages"]
        [message] = [m for m in messages if m["id"] == message_id]
        return message if message["delivery_state"] in ("sent", "failed") else None

    found: dict[str, Any] = eventually(probe)
    return found


def _failed_reply(demo: DemoSession, api: httpx.Client, ticket_id: int, body: str) -> int:
    # X refuses the next call (a permanent error: the worker does not retry it by itself).
    httpx.post(
        demo.networks.x_url + "/_emulator/faults", json={"status": 403, "count": 1}, timeout=30
    )
    created = api.post(f"/tickets/{ticket_id}/replies", json={"body": body, "confirm": True})
    assert created.status_code == 201, created.text
    message_id = int(created.json()["id"])
    assert _settled(api, ticket_id, message_id)["delivery_state"] == "failed"
    return message_id


def _sent_texts(demo: DemoSession) -> list[str]:
    return [
        s["body"]["text"]
        for s in httpx.get(demo.networks.x_url + "/_emulator/sent", timeout=30).json()
        if s["endpoint"] == "POST /2/tweets"
    ]


def test_a_failed_reply_is_sent_again_through_the_api(demo: DemoSession, db: Database) -> None:
    api = signed_in_api(demo, "agent@example.com")
    ticket = _x_ticket(api)
    message_id = _failed_reply(demo, api, ticket["id"], "Sorry for the wait: DM us please.")
    assert not [t for t in _sent_texts(demo) if t.endswith("DM us please.")]

    retried = api.post(f"/tickets/{ticket['id']}/replies/{message_id}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["delivery_state"] == "queued"
    assert _settled(api, ticket["id"], message_id)["delivery_state"] == "sent"
    assert len([t for t in _sent_texts(demo) if t.endswith("DM us please.")]) == 1

    again = api.post(f"/tickets/{ticket['id']}/replies/{message_id}/retry")
    assert again.status_code == 409
    assert "only a failed reply" in again.json()["error"]["reason"]
    with db.session() as s:
        [event] = s.scalars(select(TicketEvent).where(TicketEvent.kind == "reply_retried"))
    assert (
        event.data["message_id"] == message_id
        and event.data["previous_error"] == "Injected failure"
    )


def test_no_retry_while_the_account_needs_re_authorization(demo: DemoSession, db: Database) -> None:
    api = signed_in_api(demo, "agent@example.com")
    ticket = _x_ticket(api)
    message_id = _failed_reply(demo, api, ticket["id"], "We are checking with the courier.")
    with db.write() as s:
        account = s.get(ChannelAccount, ticket["channel_account_id"])
        assert account is not None
        account.status, account.status_reason = "needs_reauth", "token revoked"
    refused = api.post(f"/tickets/{ticket['id']}/replies/{message_id}/retry")
    assert refused.status_code == 409
    assert "re-authorized" in refused.json()["error"]["reason"]
    missing = api.post(f"/tickets/{ticket['id']}/replies/999999/retry")
    assert missing.status_code == 404


def test_the_conversation_page_offers_send_again(demo: DemoSession) -> None:
    api = signed_in_api(demo, "agent@example.com")
    ticket = _x_ticket(api)
    message_id = _failed_reply(demo, api, ticket["id"], "Your refund is on its way.")
    with httpx.Client(base_url=demo.url, timeout=20) as page:
        csrf = sign_in(page, "agent@example.com", "socialdesk")
        html = page.get(f"/tickets/{ticket['id']}").text
        assert f'action="/tickets/{ticket["id"]}/messages/{message_id}/retry"' in html
        sent = page.post(
            f"/tickets/{ticket['id']}/messages/{message_id}/retry", data={"csrf_token": csrf}
        )
        assert sent.status_code == 303, sent.text
        assert _settled(api, ticket["id"], message_id)["delivery_state"] == "sent"
        html_after = page.get(f"/tickets/{ticket['id']}").text
    assert f"{message_id}/retry" not in html_after
