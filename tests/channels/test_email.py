"""The e-mail connector against real IMAP (pymap) and SMTP (aiosmtpd) servers on loopback.

Tests act as the customer by delivering mail into the brand's IMAP mailbox, poll and
reply as the brand, and read what the SMTP server received.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from socialdesk.channels.base import (
    AccountRef,
    Connector,
    OutboundRequest,
    PollResult,
    ReplyKind,
    SendError,
    SendFailure,
)
from socialdesk.channels.email.connector import (
    EmailConnector,
    MailSettings,
    html_to_text,
    message_ids,
    parse_cursor,
    parse_email,
    reply_references,
    reply_subject,
    trim_quoted_reply,
)
from socialdesk.channels.email.emulator import MailEmulator
from socialdesk.domain.enums import Direction, Platform, Visibility
from socialdesk.domain.messages import Author, InboundMessage
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.runner import run_with_raw_events
from socialdesk.store.db import Database
from socialdesk.store.models import Message, RawEvent, Ticket
from tests.pipeline.helpers import make_account

T = TypeVar("T")
FIXTURES = Path(__file__).parents[1] / "fixtures" / "email"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def mail() -> Iterator[MailEmulator]:
    with MailEmulator() as emulator:
        yield emulator


def account_for(mail: MailEmulator, account_id: int = 3, **overrides: str) -> AccountRef:
    return AccountRef(
        id=account_id,
        platform=Platform.EMAIL,
        external_id=mail.address,
        handle="Acme Support",
        secrets={**mail.account_secrets(), **overrides},
        settings=mail.account_settings(),
    )


def poll(account: AccountRef, cursor: str | None, **kwargs: Any) -> PollResult:
    return run(EmailConnector(**kwargs).poll(account, cursor))


def reply_to(message: InboundMessage, body: str, key: str) -> OutboundRequest:
    return OutboundRequest(
        kind=ReplyKind.EMAIL,
        body=body,
        idempotency_key=key,
        in_reply_to_id=message.platform_message_id,
        references=message.references,
        recipient_id=message.author.email,
        conversation_id=message.conversation_id,
        subject=message.subject,
    )


def test_connector_implements_the_interface() -> None:
    connector: Connector = EmailConnector()
    assert connector.platform is Platform.EMAIL


# -- inbound -----------------------------------------------------------------------------


def test_customer_mail_is_polled_as_a_normalized_message(mail: MailEmulator) -> None:
    uid = mail.deliver(fixture("customer_plain.eml"))
    account = account_for(mail)

    result = poll(account, None)

    (message,) = result.messages
    assert result.cursor == f"{mail.uidvalidity()}:{uid}"
    assert message.platform is Platform.EMAIL
    assert message.platform_message_id == "<CAF4411.ann@mail.example.org>"
    assert message.conversation_id == "<CAF4411.ann@mail.example.org>"
    assert message.reply_to_id is None and message.references == ()
    assert message.subject == "Order #4411 has not arrived"
    assert message.author == Author(
        external_user_id="ann.lee@example.org",
        handle="ann.lee@example.org",
        display_name="Ann Lee",
        email="ann.lee@example.org",
    )
    assert message.visibility is Visibility.PRIVATE
    assert message.direction is Direction.INBOUND
    assert message.created_at.isoformat() == "2025-03-04T08:15:02+00:00"
    # The quoted shipping notice is trimmed and the sign-off folded; the full text is kept.
    assert message.body == (
        "Hello,\n\nmy order #4411 was due on Friday and still has not arrived. "
        "Können Sie nachsehen?"
    )
    assert message.extra["signature"] == "Thanks,\nAnn"
    full_body = str(message.extra["full_body"])
    assert "> Your order #4411 has shipped." in full_body
    assert message.extra["imap_uid"] == uid
    assert message.extra["to"] == ["support@acme.test"]


def test_html_only_mail_becomes_text_and_keeps_its_thread_ids(mail: MailEmulator) -> None:
    mail.deliver(fixture("customer_html.eml"))

    (message,) = poll(account_for(mail), None).messages

    assert message.subject == "Re: Refund für Bestellung"
    assert message.reply_to_id == "<sd.aaaa@acme.test>"
    assert message.references == ("<first-1@example.net>", "<sd.aaaa@acme.test>")
    assert message.conversation_id == "<first-1@example.net>"
    assert message.extra["body_type"] == "text/html"
    assert message.body == (
        "Hi team,\n\nthe refund still has not reached my card & it has been two weeks."
        "\n\n- Order 9001\n- Paid by card"
    )
    assert "color:red" not in str(message.extra["full_body"])
    assert "We have issued the refund." in str(message.extra["full_body"])


def test_mail_without_message_id_gets_a_stable_hash_id() -> None:
    account = AccountRef(id=1, platform=Platform.EMAIL, external_id="s@acme.test", handle="s")
    first = parse_email(fixture("no_message_id.eml"), account)
    again = parse_email(fixture("no_message_id.eml"), account)
    assert first is not None and again is not None
    assert first.platform_message_id == again.platform_message_id
    assert first.platform_message_id.endswith("@no-message-id.invalid>")
    assert first.conversation_id == first.platform_message_id


def test_auto_replies_lists_bounces_and_our_own_mail_are_ignored(mail: MailEmulator) -> None:
    mail.deliver(fixture("auto_reply.eml"))
    mail.deliver(fixture("bulk.eml"))
    mail.deliver(mail.customer_mail(mail.address, "Our own copy", "sent by us"))
    mail.deliver(
        mail.customer_mail(
            "mailer-daemon@mx.example.org",
            "Undelivered Mail Returned to Sender",
            "delivery failed",
            headers={"Auto-Submitted": "auto-generated (failure)"},
        )
    )
    mail.deliver(
        mail.customer_mail(
            "dan@example.com", "Explicitly human", "Hi", headers={"Auto-Submitted": "no"}
        )
    )
    last = mail.deliver(fixture("customer_plain.eml"))
    connector = EmailConnector()
    account = account_for(mail)

    result = run(connector.poll(account, None))

    assert [m.author.email for m in result.messages] == ["dan@example.com", "ann.lee@example.org"]
    assert connector.last_ignored[account.id] == 4
    assert result.cursor is not None and result.cursor.endswith(f":{last}")


# -- checkpoint ---------------------------------------------------------------------------


def test_uid_checkpoint_never_returns_a_message_twice(mail: MailEmulator) -> None:
    account = account_for(mail)
    mail.deliver(mail.customer_mail("a@example.com", "one", "first"))
    mail.deliver(mail.customer_mail("b@example.com", "two", "second"))

    first = poll(account, None)
    assert [m.subject for m in first.messages] == ["one", "two"]
    # UID SEARCH <last+1>:* still matches the newest message; it must be dropped.
    assert poll(account, first.cursor).messages == []

    mail.deliver(mail.customer_mail("c@example.com", "three", "third"))
    second = poll(account, first.cursor)
    assert [m.subject for m in second.messages] == ["three"]
    assert poll(account, second.cursor).messages == []
    validity, last_uid = parse_cursor(second.cursor) or (0, 0)
    assert validity == mail.uidvalidity() and last_uid == 103


def test_max_fetch_pages_through_a_backlog(mail: MailEmulator) -> None:
    account = account_for(mail)
    for n in range(5):
        mail.deliver(mail.customer_mail("a@example.com", f"mail {n}", "body"))
    seen: list[str | None] = []
    cursor = None
    for _ in range(3):
        result = poll(account, cursor, max_fetch=2)
        seen.extend(m.subject for m in result.messages)
        cursor = result.cursor
    assert seen == [f"mail {n}" for n in range(5)]


def test_uidvalidity_change_resynchronises(mail: MailEmulator) -> None:
    account = account_for(mail)
    for n in range(3):
        mail.deliver(mail.customer_mail("a@example.com", f"old {n}", "body"))
    before = poll(account, None)
    assert len(before.messages) == 3

    new_validity = mail.reset_mailbox()
    # The new INBOX numbers from 101 again: below the old checkpoint (103).
    mail.deliver(mail.customer_mail("b@example.com", "after the move", "body"))
    after = poll(account, before.cursor)

    assert [m.subject for m in after.messages] == ["after the move"]
    assert after.cursor == f"{new_validity}:101"


def test_unreadable_cursor_starts_from_the_beginning(mail: MailEmulator) -> None:
    mail.deliver(mail.customer_mail("a@example.com", "hello", "body"))
    assert len(poll(account_for(mail), "garbage").messages) == 1


# -- outbound -----------------------------------------------------------------------------


def test_reply_arrives_with_threading_headers(mail: MailEmulator) -> None:
    mail.deliver(fixture("customer_plain.eml"))
    account = account_for(mail)
    (customer,) = poll(account, None).messages

    result = run(EmailConnector().send(account, reply_to(customer, "We are on it, Ann.", "m-1")))

    (sent,) = mail.wait_for_sent(1)
    message = sent.message
    assert sent.mail_from == mail.address
    assert sent.rcpt_tos == ("ann.lee@example.org",)
    assert sent.login == mail.address
    assert message["Message-ID"] == result.platform_message_id
    assert result.platform_message_id.endswith("@acme.test>")
    assert message["In-Reply-To"] == "<CAF4411.ann@mail.example.org>"
    assert message["References"] == "<CAF4411.ann@mail.example.org>"
    assert message["Subject"] == "Re: Order #4411 has not arrived"
    assert message["From"] == "Acme Support <support@acme.test>"
    assert message["Auto-Submitted"] is None
    assert message.get_content().strip() == "We are on it, Ann."
    assert result.conversation_id == "<CAF4411.ann@mail.example.org>"


def test_retry_of_the_same_reply_keeps_its_message_id(mail: MailEmulator) -> None:
    account = account_for(mail)
    request = OutboundRequest(
        kind=ReplyKind.EMAIL, body="Hi", idempotency_key="m-7", recipient_id="a@example.com"
    )
    first = run(EmailConnector().send(account, request))
    second = run(EmailConnector().send(account, request))
    assert first.platform_message_id == second.platform_message_id
    sent = mail.wait_for_sent(2)
    assert sent[0].message["Subject"] == "Your message"
    assert sent[0].message["In-Reply-To"] is None


def test_automatic_reply_is_stamped_auto_submitted(mail: MailEmulator) -> None:
    account = account_for(mail)
    mail.deliver(fixture("customer_plain.eml"))
    (customer,) = poll(account, None).messages
    request = reply_to(customer, "We received your message.", "ack-1")
    run(EmailConnector().send(account, request, automatic=True))
    (sent,) = mail.wait_for_sent(1)
    assert sent.message["Auto-Submitted"] == "auto-replied"


def test_customer_reply_to_our_reply_threads_by_references(mail: MailEmulator) -> None:
    account = account_for(mail)
    mail.deliver(fixture("customer_plain.eml"))
    first = poll(account, None)
    (customer,) = first.messages
    ours = run(EmailConnector().send(account, reply_to(customer, "Shipped again.", "m-2")))
    (sent,) = mail.wait_for_sent(1)

    # The customer's mail program answers our reply (RFC 5322 §3.6.4).
    answer = mail.customer_mail(
        "ann.lee@example.org",
        str(sent.message["Subject"]),
        "Got it, thanks!\n\nOn Tue, 4 Mar 2025, Acme Support wrote:\n> Shipped again.",
        in_reply_to=ours.platform_message_id,
        references=(*message_ids(sent.message["References"]), ours.platform_message_id),
    )
    mail.deliver(answer)
    (reply,) = poll(account, first.cursor).messages

    assert reply.reply_to_id == ours.platform_message_id
    assert reply.references == ("<CAF4411.ann@mail.example.org>", ours.platform_message_id)
    assert reply.conversation_id == customer.conversation_id
    assert reply.subject == "Re: Order #4411 has not arrived"
    assert reply.body == "Got it, thanks!"


@pytest.mark.parametrize(
    ("stage", "code", "failure"),
    [
        ("RCPT", 451, SendFailure.RETRYABLE),
        ("RCPT", 550, SendFailure.PERMANENT),
        ("DATA", 452, SendFailure.RETRYABLE),
        ("DATA", 554, SendFailure.PERMANENT),
        ("MAIL", 421, SendFailure.RETRYABLE),
    ],
)
def test_smtp_reply_codes_are_classified(
    mail: MailEmulator, stage: str, code: int, failure: SendFailure
) -> None:
    mail.reject_next(code, "rejected by test", stage=stage)
    request = OutboundRequest(
        kind=ReplyKind.EMAIL, body="Hi", idempotency_key="m-3", recipient_id="a@example.com"
    )
    with pytest.raises(SendError) as caught:
        run(EmailConnector().send(account_for(mail), request))
    assert caught.value.failure is failure
    assert caught.value.code == str(code)
    assert mail.sent() == []


def test_rejected_credentials_mean_auth_revoked(mail: MailEmulator) -> None:
    account = account_for(mail, password="wrong")
    request = OutboundRequest(
        kind=ReplyKind.EMAIL, body="Hi", idempotency_key="m-4", recipient_id="a@example.com"
    )
    with pytest.raises(SendError) as sent:
        run(EmailConnector().send(account, request))
    assert sent.value.failure is SendFailure.AUTH_REVOKED
    assert sent.value.code == "535"
    with pytest.raises(SendError) as polled:
        poll(account, None)
    assert polled.value.failure is SendFailure.AUTH_REVOKED
    assert "wrong" not in repr(MailSettings.from_account(account))


def test_unreachable_servers_are_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before use: nothing listens
    account = AccountRef(
        id=1,
        platform=Platform.EMAIL,
        external_id="s@acme.test",
        handle="s",
        secrets={"password": "pw"},
        settings={
            "imap_host": "127.0.0.1",
            "imap_port": port,
            "imap_security": "none",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
        },
    )
    request = OutboundRequest(
        kind=ReplyKind.EMAIL, body="Hi", idempotency_key="m-5", recipient_id="a@example.com"
    )
    with pytest.raises(SendError) as sent:
        run(EmailConnector(timeout=2).send(account, request))
    assert sent.value.failure is SendFailure.RETRYABLE
    with pytest.raises(SendError) as polled:
        run(EmailConnector(timeout=2).poll(account, None))
    assert polled.value.failure is SendFailure.RETRYABLE


def test_send_refuses_other_kinds_and_missing_recipient(mail: MailEmulator) -> None:
    account = account_for(mail)
    for request in (
        OutboundRequest(kind=ReplyKind.PUBLIC_REPLY, body="x", idempotency_key="k"),
        OutboundRequest(kind=ReplyKind.EMAIL, body="x", idempotency_key="k"),
    ):
        with pytest.raises(SendError) as caught:
            run(EmailConnector().send(account, request))
        assert caught.value.failure is SendFailure.PERMANENT


# -- pure helpers -----------------------------------------------------------------------


def test_trim_quoted_reply_variants() -> None:
    wrapped = "Yes.\n\nOn Tue, 4 Mar 2025 at 10:00, Acme <s@a.test>\nwrote:\n> x"
    assert trim_quoted_reply(wrapped) == "Yes."
    assert trim_quoted_reply("Fine\n-----Original Message-----\nFrom: x") == "Fine"
    # Interleaved answers keep the questions they answer.
    assert trim_quoted_reply("> a\nanswer a\n> b\nanswer b") == "> a\nanswer a\n> b\nanswer b"
    assert trim_quoted_reply("Hi,\n\n> a\n\nanswer a") == "Hi,\n\nanswer a"
    assert trim_quoted_reply("> only a quote") == "> only a quote"


def test_header_helpers() -> None:
    assert message_ids("<a@x> <b@y>\r\n <a@x>") == ["<a@x>", "<b@y>"]
    assert message_ids("bare@id.example") == ["<bare@id.example>"]
    assert message_ids(None) == []
    assert reply_references(["<a@x>", "<b@x>"], "<c@x>") == ["<a@x>", "<b@x>", "<c@x>"]
    assert reply_references(["<a@x>", "<c@x>"], "<c@x>") == ["<a@x>", "<c@x>"]
    assert reply_references([], None) == []
    assert reply_subject("Order", True) == "Re: Order"
    assert reply_subject("RE: Order", True) == "RE: Order"
    assert reply_subject("AW: Bestellung", True) == "AW: Bestellung"
    assert reply_subject(None, True) == "Re: your message"
    assert parse_cursor("12:34") == (12, 34)
    assert parse_cursor(None) is None and parse_cursor("x:1") is None
    assert html_to_text("<p>a&nbsp;b</p><script>x()</script><br>c") == "a b\n\nc"


# -- through the pipeline into a real database ----------------------------------------------


def _ingest_poll(db: Database, account: AccountRef, cursor: str | None) -> str | None:
    result = poll(account, cursor)
    run_with_raw_events(
        db,
        Pipeline(),
        [(m, {"message_id": m.platform_message_id}) for m in result.messages],
        source="poll:email",
    )
    return result.cursor


def test_a_three_mail_thread_becomes_one_ticket(db: Database, mail: MailEmulator) -> None:
    account = account_for(mail, account_id=make_account(db, Platform.EMAIL, "support@acme.test"))
    first_mail = mail.customer_mail(
        "ann.lee@example.org", "Broken kettle", "It leaks.", message_id="<k1@example.org>"
    )
    mail.deliver(first_mail)
    mail.deliver(mail.customer_mail("carol@example.com", "Unrelated", "Other question"))
    cursor = _ingest_poll(db, account, None)

    # Our reply goes out over SMTP and is recorded as the delivery worker would.
    (customer,) = [m for m in poll(account, None).messages if m.subject == "Broken kettle"]
    ours = run(EmailConnector().send(account, reply_to(customer, "Send a photo?", "r-1")))
    with db.write() as s:
        Pipeline().ingest(
            s.connection(),
            [
                InboundMessage(
                    channel_account_id=account.id,
                    platform=Platform.EMAIL,
                    platform_message_id=ours.platform_message_id,
                    author=Author(external_user_id=mail.address, email=mail.address),
                    body="Send a photo?",
                    created_at=customer.created_at,
                    direction=Direction.OUTBOUND,
                    reply_to_id=customer.platform_message_id,
                    references=(customer.platform_message_id,),
                    conversation_id=customer.conversation_id,
                )
            ],
        )
    # The customer answers our reply; a colleague of hers answers her first mail.
    mail.deliver(
        mail.customer_mail(
            "ann.lee@example.org",
            "Re: Broken kettle",
            "Photo attached.",
            in_reply_to=ours.platform_message_id,
            references=("<k1@example.org>", ours.platform_message_id),
        )
    )
    mail.deliver(
        mail.customer_mail(
            "bob@example.org",
            "Re: Broken kettle",
            "Same problem here, same order.",
            in_reply_to="<k1@example.org>",
            references=("<k1@example.org>",),
        )
    )
    cursor = _ingest_poll(db, account, cursor)
    # Reading the mailbox again from scratch (lost cursor) stores nothing twice.
    _ingest_poll(db, account, None)

    with db.session() as s:
        rows = s.execute(
            select(Message.ticket_id, Message.body, Message.meta, Message.direction).order_by(
                Message.id
            )
        ).all()
        tickets = s.scalars(select(Ticket.id)).all()
        raw_sources = set(s.scalars(select(RawEvent.source)))
    kettle = [r for r in rows if r.body != "Other question"]
    assert len(tickets) == 2
    assert len(rows) == 5
    assert len({r.ticket_id for r in kettle}) == 1
    rules = {r.body: r.meta["thread_rule"] for r in kettle}
    assert rules["Photo attached."] == "reply_chain"
    assert rules["Same problem here, same order."] == "reply_chain"
    assert raw_sources == {"poll:email"}
