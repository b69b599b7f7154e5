"""E-mail through the schedulers: the poller picks a customer's mail from real IMAP,
the agent replies, the delivery worker sends it over real SMTP with threading headers."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from socialdesk.actions import tickets as ticket_actions
from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.channels.email.emulator import MailEmulator
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.config import Settings
from socialdesk.delivery.worker import DeliveryWorker
from socialdesk.domain.enums import Platform, Role
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.polling import poll_account
from socialdesk.store.db import Database
from socialdesk.store.models import Message, Ticket, User

FIXTURES = Path(__file__).parents[1] / "fixtures" / "email"


def test_mail_polled_answered_and_threaded(db: Database) -> None:
    with MailEmulator() as mail:
        with db.write() as s:
            ws = ensure_workspace(s)
            create_user(s, "agent@example.com", "correct horse battery", Role.AGENT, workspace=ws)
            account_id = create_channel_account(
                s,
                None,
                workspace_id=ws.id,
                platform=Platform.EMAIL,
                handle="Acme Support",
                external_id=mail.address,
                secrets=mail.account_secrets(),
                settings=mail.account_settings(),
            ).id
        mail.deliver((FIXTURES / "customer_plain.eml").read_bytes())
        asyncio.run(_poll_reply_deliver(db, account_id))
        (sent,) = mail.wait_for_sent(1)
        message = sent.message
        assert message["In-Reply-To"] == "<CAF4411.ann@mail.example.org>"
        assert message["Subject"] == "Re: Order #4411 has not arrived"
        assert sent.rcpt_tos == ("ann.lee@example.org",)
        with db.session() as s:
            reply = s.scalar(select(Message).where(Message.direction == "outbound"))
            assert reply is not None and reply.delivery_state == "sent"
            assert reply.platform_message_id == message["Message-ID"]


async def _poll_reply_deliver(db: Database, account_id: int) -> None:
    registry = ConnectorRegistry(Settings())
    outcome = await poll_account(db, Pipeline(), registry, account_id)
    assert (outcome.stored, outcome.error) == (1, None)
    with db.write() as s:
        ticket = s.scalar(select(Ticket))
        agent = s.scalar(select(User))
        assert ticket is not None and agent is not None
        assert ticket.platform == "email" and "4411" in ticket.subject
        ticket_actions.reply(s, ticket, agent, "We are on it, Ann: a replacement ships today.")
    assert await DeliveryWorker(db, registry).run_once() == 1
    await registry.aclose()
