"""Scheduled send (composer, API, the real delivery worker against the X emulator),
e-mail as a composer mode, and @team mentions."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from socialdesk.actions import email_route as email_routes
from socialdesk.actions import tickets as actions
from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.actions.inbox import save_canned_response
from socialdesk.actions.mentions import team_slug
from socialdesk.channels.base import ReplyKind
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.delivery.compose import build_request
from socialdesk.delivery.worker import DeliveryWorker
from socialdesk.domain.enums import Platform
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import (
    AuditEntry,
    ContactIdentity,
    Message,
    Notification,
    OutboxEntry,
    Team,
    TeamMember,
    Ticket,
    TicketEvent,
    User,
)
from tests.delivery.test_x_delivery import XWorld, _account, _settings, x_world
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_pages import PASSWORD, app_db, client, seed_ticket, sign_in

__all__ = ["app_db", "client", "x_world"]
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("send_at", "problem"),
    [
        (NOW + timedelta(minutes=5), None),
        (NOW + timedelta(days=30), None),
        (NOW + timedelta(days=30, seconds=1), "more than 30 days ahead"),
        (NOW, "in the past"),
        (NOW - timedelta(hours=1), "in the past"),
        (datetime(2026, 11, 24, 9, 0), "needs a time zone"),
    ],
)
def test_check_send_at(send_at: datetime, problem: str | None) -> None:
    found = actions.check_send_at(send_at, NOW)
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    ("subject", "first", "expected"),
    [
        ("Order #4411 has not arrived", None, "Re: Order #4411 has not arrived"),
        ("Re: Order #4411", None, "Re: Order #4411"),
        ("", "\n  my parcel is lost\nplease help", "Re: my parcel is lost"),
        ("", None, "Re: your message"),
    ],
)
def test_email_subject(subject: str, first: str | None, expected: str) -> None:
    assert email_routes.email_subject(subject, first) == expected


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Billing", "billing"), ("Billing & Refunds", "billing-refunds"), (" Tier 2 ", "tier-2")],
)
def test_team_slug(name: str, slug: str) -> None:
    assert team_slug(name) == slug


def _outbox(db: Database, message_id: int) -> OutboxEntry | None:
    with db.session() as s:
        return s.scalar(select(OutboxEntry).where(OutboxEntry.message_id == message_id))


def test_schedule_from_the_composer_then_cancel(client: TestClient, app_db: Database) -> None:
    ticket_id = seed_ticket(app_db)
    csrf = sign_in(client, "agent@example.com")
    page = client.get(f"/tickets/{ticket_id}").text
    assert 'name="schedule"' in page and 'type="datetime-local"' in page
    send_at = (utcnow() + timedelta(hours=2)).replace(microsecond=0)
    r = client.post(
        f"/tickets/{ticket_id}/reply",
        data={"csrf_token": csrf, "body": "We will ship it tomorrow morning.", "schedule": "1",
              "send_at": send_at.astimezone(UTC).isoformat().replace("+00:00", "Z")},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert "Scheduled for" in r.text and "Cancel scheduled reply" in r.text
    with app_db.session() as s:
        message = s.scalar(select(Message).where(Message.direction == "outbound"))
        ticket = s.get(Ticket, ticket_id)
        assert message is not None and ticket is not None
        message_id = message.id
        assert message.delivery_state == "scheduled"
        # Not the ticket's answer yet: still waiting, no first response, status kept.
        assert ticket.needs_reply and ticket.first_response_at is None
        assert ticket.status != "pending"
    entry = _outbox(app_db, message_id)
    assert entry is not None and entry.state == "queued" and entry.next_attempt_at == send_at
    # A time in the past is refused with the reason.
    r = client.post(
        f"/tickets/{ticket_id}/reply",
        data={"csrf_token": csrf, "body": "late", "schedule": "1",
              "send_at": (utcnow() - timedelta(minutes=1)).isoformat()},
    )  # fmt: skip
    assert r.status_code == 422 and "in the past" in r.text
    # The text can be edited while it waits.
    r = client.post(
        f"/tickets/{ticket_id}/messages/{message_id}/edit",
        data={"csrf_token": csrf, "body": "We will ship it today."},
    )
    assert r.status_code == 303
    r = client.post(
        f"/tickets/{ticket_id}/messages/{message_id}/cancel",
        data={"csrf_token": csrf},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and "it will not be sent" in r.text
    assert "Cancel scheduled reply" not in r.text and "cancelled" in r.text
    assert _outbox(app_db, message_id) is None
    with app_db.session() as s:
        cancelled = s.get(Message, message_id)
        assert cancelled is not None and cancelled.delivery_state == "cancelled"
        assert cancelled.body == "We will ship it today."
        kinds = list(s.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)))
        assert {"reply_scheduled", "scheduled_reply_edited", "scheduled_reply_cancelled"} <= set(
            kinds
        )
        assert s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "ticket.scheduled_reply_cancelled")
        )
    # Cancelling again (or editing) is refused: nothing is scheduled any more.
    r = client.post(f"/tickets/{ticket_id}/messages/{message_id}/cancel", data={"csrf_token": csrf})
    assert r.status_code == 409


def test_api_send_at(client: TestClient, app_db: Database) -> None:
    ticket_id = seed_ticket(app_db)
    token = client.post(
        "/api/v1/auth/token", json={"email": "agent@example.com", "password": PASSWORD}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/tickets/{ticket_id}/replies"
    for send_at, reason in (
        ((utcnow() - timedelta(minutes=5)).isoformat(), "in the past"),
        ((utcnow() + timedelta(days=31)).isoformat(), "more than 30 days ahead"),
        ("2030-01-01T09:00:00", "needs a time zone"),
    ):
        r = client.post(url, headers=headers, json={"body": "Hello", "send_at": send_at})
        assert r.status_code == 422, r.text
        assert reason in r.json()["error"]["reason"]
    later = (utcnow() + timedelta(hours=1)).astimezone(datetime.now().astimezone().tzinfo or UTC)
    r = client.post(url, headers=headers, json={"body": "Hello", "send_at": later.isoformat()})
    assert r.status_code == 201, r.text
    assert r.json()["delivery_state"] == "scheduled"
    message_id = r.json()["id"]
    r = client.post(f"{url}/{message_id}/cancel", headers=headers)
    assert r.status_code == 200 and r.json()["delivery_state"] == "cancelled"
    assert client.post(f"{url}/{message_id}/cancel", headers=headers).status_code == 409


def test_scheduled_reply_waits_for_its_time_and_goes_out_once(
    db: Database, x_world: XWorld
) -> None:
    """The real delivery worker with an injected clock against the X emulator."""
    account_id = _account(db, x_world)
    tweet = x_world.customer_tweet("where is my order?")
    ingest(db, post(account_id, tweet["id_str"], tweet["text"], author=tweet["user"]["id_str"]))
    send_at = utcnow() + timedelta(minutes=10)
    with db.write() as s:
        ticket = s.scalar(select(Ticket))
        agent = s.scalar(select(User))
        assert ticket is not None and agent is not None
        kept = actions.reply(s, ticket, agent, "Your order ships at noon.", send_at=send_at).id
        dropped = actions.reply(s, ticket, agent, "Never mind this one.", send_at=send_at).id
    with db.write() as s:
        ticket = s.scalar(select(Ticket))
        agent = s.scalar(select(User))
        message = s.get(Message, dropped)
        assert ticket is not None and agent is not None and message is not None
        actions.cancel_scheduled_reply(s, ticket, agent, message)
    with db.session() as s:
        waiting = s.scalar(select(Ticket))
        assert waiting is not None and waiting.needs_reply and waiting.first_response_at is None
    moment = [send_at - timedelta(seconds=1)]
    registry = ConnectorRegistry(_settings(x_world))
    worker = DeliveryWorker(db, registry, clock=lambda: moment[0])

    async def passes() -> list[int]:
        claimed = [await worker.run_once()]  # a second early: nothing is due
        moment[0] = send_at + timedelta(seconds=1)
        claimed.append(await worker.run_once())
        claimed.append(await worker.run_once())  # sent once, never again
        await registry.aclose()
        return claimed

    assert asyncio.run(passes()) == [0, 1, 0]
    posts = x_world.posts()
    assert [p["body"]["text"] for p in posts] == ["Your order ships at noon."]
    with db.session() as s:
        sent = s.get(Message, kept)
        cancelled = s.get(Message, dropped)
        assert sent is not None and sent.delivery_state == "sent" and sent.platform_message_id
        assert cancelled is not None and cancelled.delivery_state == "cancelled"
        # Only now is it the ticket's answer: first response at the send, waiting on
        # the customer; the cancelled one never counted.
        ticket = s.scalar(select(Ticket))
        assert ticket is not None
        assert ticket.first_response_at is not None and ticket.first_response_at >= send_at
        assert not ticket.needs_reply and ticket.status == "pending"
        kinds = list(s.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)))
        assert kinds.count("replied") == 1
    # Once sent it can no longer be cancelled.
    with db.write() as s, pytest.raises(actions.ActionError):
        message = s.get(Message, kept)
        ticket = s.scalar(select(Ticket))
        agent = s.scalar(select(User))
        assert message is not None and ticket is not None and agent is not None
        actions.cancel_scheduled_reply(s, ticket, agent, message)


def _email_setup(db: Database, ticket_id: int) -> int:
    with db.write() as s:
        ws = ensure_workspace(s)
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and ticket.contact_id is not None
        s.add(
            ContactIdentity(
                workspace_id=ws.id, contact_id=ticket.contact_id, platform="email",
                external_user_id="sarah@example.org",
            )
        )  # fmt: skip
        return create_channel_account(
            s, None, workspace_id=ws.id, platform=Platform.EMAIL, handle="Acme Support",
            external_id="support@acme.example", settings={"smtp_host": "127.0.0.1"},
        ).id  # fmt: skip


def test_email_mode_in_the_composer(client: TestClient, app_db: Database) -> None:
    ticket_id = seed_ticket(app_db)
    csrf = sign_in(client, "agent@example.com")
    assert 'value="email"' not in client.get(f"/tickets/{ticket_id}").text
    mailbox = _email_setup(app_db, ticket_id)
    page = client.get(f"/tickets/{ticket_id}").text
    assert re.search(r'value="email"[^>]*> E-mail <small>to sarah@example.org', page)
    preview = client.post(
        f"/tickets/{ticket_id}/composer",
        data={"csrf_token": csrf, "kind": "email", "body": "x" * 400},
    )
    # Counted as e-mail: no hard limit (an X reply would show "/ 280").
    assert '<span class="count-num">400</span> characters' in preview.text
    # Canned responses use the full text in an e-mail, the short one on X.
    with app_db.write() as s:
        admin = s.scalar(select(User).where(User.email == "admin@example.com"))
        assert admin is not None
        save_canned_response(
            s, admin, ensure_workspace(s).id, shortcut="ship", body="Full answer",
            short_body="Short answer",
        )  # fmt: skip
    assert 'data-text="Short answer"' in client.get(f"/tickets/{ticket_id}/canned?q=ship").text
    canned = client.get(f"/tickets/{ticket_id}/canned?q=ship&kind=email").text
    assert 'data-text="Full answer"' in canned
    r = client.post(
        f"/tickets/{ticket_id}/reply",
        data={"csrf_token": csrf, "kind": "email", "body": "Details by mail."},
    )
    assert r.status_code == 303
    with app_db.session() as s:
        message = s.scalar(select(Message).where(Message.direction == "outbound"))
        ticket = s.get(Ticket, ticket_id)
        assert message is not None and ticket is not None
        assert (message.channel_account_id, message.platform) == (mailbox, "email")
        expected = "Re: " + (ticket.subject or "My parcel never arrived, can you help?")
        assert message.subject == expected
        entry = s.scalar(select(OutboxEntry).where(OutboxEntry.message_id == message.id))
        assert entry is not None and entry.kind == "email"
        request = build_request(s, entry, message, ticket)
        assert request.kind is ReplyKind.EMAIL
        assert request.recipient_id == "sarah@example.org"
        assert request.subject == message.subject


def test_team_mention_notifies_each_member_once(client: TestClient, app_db: Database) -> None:
    ticket_id = seed_ticket(app_db)
    with app_db.write() as s:
        ws = ensure_workspace(s)
        users = {u.email: u.id for u in s.scalars(select(User))}
        team = Team(workspace_id=ws.id, name="Billing & Refunds", created_at=utcnow())
        s.add(team)
        s.flush()
        for email in ("admin@example.com", "lead@example.com", "agent@example.com"):
            s.add(TeamMember(team_id=team.id, user_id=users[email]))
    csrf = sign_in(client, "agent@example.com")
    r = client.post(
        f"/tickets/{ticket_id}/note",
        data={"csrf_token": csrf, "body": "@billing-refunds please check, @lead too"},
    )
    assert r.status_code == 303
    with app_db.session() as s:
        notified = sorted(
            s.scalars(select(Notification.user_id).where(Notification.kind == "mention"))
        )
    # Each team member once (the lead is also named), never the author.
    assert notified == sorted([users["admin@example.com"], users["lead@example.com"]])


def test_outside_metas_window_the_composer_offers_email(
    client: TestClient, app_db: Database
) -> None:
    account = make_account(app_db, Platform.MESSENGER, handle="AcmePage")
    # The customer's last DM is years old: far outside the 24-hour window.
    ingest(
        app_db,
        post(account, "m1", "Hello?", author="psid-1", conversation="c1",
             platform=Platform.MESSENGER),
    )  # fmt: skip
    with app_db.session() as s:
        ticket_id = int(
            s.scalar(select(Message.ticket_id).where(Message.platform_message_id == "m1"))
        )
    sign_in(client, "agent@example.com")
    page = client.get(f"/tickets/{ticket_id}").text
    assert "Outside Meta&#39;s messaging window" in page and "Answer in public instead" in page
    assert 'value="email"' not in page
    _email_setup(app_db, ticket_id)
    page = client.get(f"/tickets/{ticket_id}").text
    assert "Send an e-mail instead" in page
    assert re.search(r'value="email" checked', page)
