"""Issue 5 end to end on the X emulator: a post arrives out of hours, the
acknowledgement goes out on X once, a rule routes the ticket, and the first-response
due time is the policy's next business morning."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from socialdesk.actions.admin import ensure_workspace
from socialdesk.automation.admin import save_rule
from socialdesk.automation.rules import out_of_hours_acknowledgement
from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.config import Settings
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import Message, Team, Ticket
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from tests.delivery.helpers import connect_x_brand, eventually
from tests.sla.helpers import add_policy

SECRET = "ooh-consumer-secret"
# Monday 7 January 2030, 23:00 in New York: after hours, and Tuesday is no holiday.
LATE_MONDAY = datetime(2030, 1, 8, 4, 0, tzinfo=UTC)
# Tuesday 09:00 New York + the policy's 60 business minutes = 10:00 EST = 15:00 UTC.
EXPECTED_DUE = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)


def test_out_of_hours_post_on_x(db: Database) -> None:
    add_policy(db)  # New York office hours, 09:00-17:00 on weekdays, US holidays
    with db.write() as s:
        ws = ensure_workspace(s)
        team = Team(workspace_id=ws.id, name="orders", skills=[], created_at=utcnow())
        s.add(team)
        s.flush()
        team_id = team.id
        save_rule(s, None, ws.id, **out_of_hours_acknowledgement())
        save_rule(
            s,
            None,
            ws.id,
            name="orders to the orders team",
            event="ticket_created",
            conditions=[{"field": "text", "op": "contains", "value": "order"}],
            actions=[{"type": "assign_team", "team_id": team_id}],
        )

    with (
        serve_app(create_x_emulator(SECRET, retry_delay_seconds=0.05)) as x_url,
        httpx.Client(base_url=x_url) as x,
    ):
        # The emulator's clock moves to a late Monday evening (tokens are issued after,
        # so they are valid at that time).
        now = x.post("/_emulator/clock", json={"advance_seconds": 0}).json()["now"]
        gap = (LATE_MONDAY - datetime.fromisoformat(now)).total_seconds()
        x.post("/_emulator/clock", json={"advance_seconds": gap})
        connect_x_brand(x, db)
        settings = Settings(x_consumer_secret=SECRET, x_api_base_url=x_url)
        with serve(create_app(settings, db)) as url:
            x.put("/_emulator/webhook", json={"url": url + "/hooks/x"})

            tweet = x.post(
                "/_emulator/customer/mention",
                json={"customer": {"username": "sam_k"}, "text": "my order never arrived"},
            ).json()["tweet"]

            def acks() -> list[dict[str, Any]]:
                return [
                    e for e in x.get("/_emulator/sent").json() if e["endpoint"] == "POST /2/tweets"
                ]

            (ack,) = eventually(acks)
            assert ack["body"]["reply"]["in_reply_to_tweet_id"] == tweet["id_str"]
            assert "Tuesday" in ack["body"]["text"]

            # The customer writes again, still out of hours: no second acknowledgement.
            x.post(
                "/_emulator/customer/mention",
                json={
                    "customer": {"username": "sam_k"},
                    "text": "hello??",
                    "in_reply_to_tweet_id": tweet["id_str"],
                },
            )
            eventually(lambda: _count_inbound(db) == 2)
            time.sleep(1.0)  # let the worker and any (wrong) second ack run
            assert len(acks()) == 1

    with db.session() as s:
        ticket = s.scalar(select(Ticket))
        assert ticket is not None
        assert ticket.team_id == team_id
        assert ticket.first_response_due_at == EXPECTED_DUE
        # The acknowledgement is not the first response: the customer still waits for a person.
        assert ticket.first_response_at is None and ticket.needs_reply


def _count_inbound(db: Database) -> int:
    with db.session() as s:
        return len(s.scalars(select(Message.id).where(Message.direction == "inbound")).all())
