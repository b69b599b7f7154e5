""" "Does it work now?" end to end on the X emulator: the agent solves, the check-in is
posted once as a reply under the customer's tweet, the customer's "5/5" comes back
through the webhook and is recorded as CSAT while the ticket stays solved."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.actions.tickets import reply
from socialdesk.automation.csat import ASK_AFTER_SOLVE
from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.config import Settings
from socialdesk.domain.enums import Role, TicketStatus
from socialdesk.emulators.server import serve_app
from socialdesk.sla.admin import update_workspace_settings
from socialdesk.store.db import Database
from socialdesk.store.models import CsatResponse, Ticket, User
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from tests.delivery.helpers import connect_x_brand, eventually

SECRET = "check-in-consumer-secret"


def test_check_in_on_x(db: Database) -> None:
    with db.write() as s:
        ws = ensure_workspace(s)
        update_workspace_settings(s, None, ws, {"ask_after_solve": True})
        agent_id = create_user(s, "a@ex.com", "correct horse battery", Role.AGENT, workspace=ws).id

    with (
        serve_app(create_x_emulator(SECRET, retry_delay_seconds=0.05)) as x_url,
        httpx.Client(base_url=x_url) as x,
    ):
        connect_x_brand(x, db)
        settings = Settings(x_consumer_secret=SECRET, x_api_base_url=x_url)
        with serve(create_app(settings, db)) as url:
            x.put("/_emulator/webhook", json={"url": url + "/hooks/x"})
            tweet = x.post(
                "/_emulator/customer/mention",
                json={"customer": {"username": "sam_k"}, "text": "the app crashes on login"},
            ).json()["tweet"]

            def ticket_id() -> int | None:
                with db.session() as s:
                    return s.scalar(select(Ticket.id))

            tid = eventually(ticket_id)
            with db.write() as s:
                ticket, agent = s.get(Ticket, tid), s.get(User, agent_id)
                assert ticket is not None and agent is not None
                reply(s, ticket, agent, "Fixed in 2.1.3!", status_after=TicketStatus.SOLVED)

            def posted() -> list[dict[str, Any]]:
                return [
                    e for e in x.get("/_emulator/sent").json() if e["endpoint"] == "POST /2/tweets"
                ]

            sent = eventually(lambda: len(posted()) == 2 and posted())
            [ask] = [e for e in sent if e["body"]["text"].endswith(ASK_AFTER_SOLVE)]
            assert ask["body"]["reply"]["in_reply_to_tweet_id"] == tweet["id_str"]

            x.post(
                "/_emulator/customer/mention",
                json={
                    "customer": {"username": "sam_k"},
                    "text": "@AcmeSupport 5/5 works now",
                    "in_reply_to_tweet_id": tweet["id_str"],
                },
            )

            def answers() -> list[tuple[int, str]]:
                with db.session() as s:
                    rows = s.execute(select(CsatResponse.score, CsatResponse.source))
                    return [(r.score, r.source) for r in rows]

            assert eventually(answers) == [(5, "customer_message")]
            time.sleep(0.5)
            assert len(posted()) == 2  # asked once

    with db.session() as s:
        ticket = s.get(Ticket, tid)
        assert ticket is not None and ticket.status == "solved" and not ticket.needs_reply
