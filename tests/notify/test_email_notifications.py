"""notify_email rules send real e-mail: the rule writes an outbox row in its transaction,
the notification worker sends it over SMTP to a real aiosmtpd server on loopback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.automation.admin import save_rule
from socialdesk.channels.email.emulator import MailEmulator
from socialdesk.config import Settings, get_settings, reset_settings_cache
from socialdesk.domain.enums import Role
from socialdesk.notify.mailer import SmtpConfig
from socialdesk.notify.outbox import enqueue_email
from socialdesk.notify.worker import NOT_CONFIGURED, NotificationWorker, RetryPolicy
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import NotificationOutboxEntry, Ticket
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from socialdesk.wiring.pipeline import build_pipeline
from tests.api.conftest import PASSWORD
from tests.pipeline.helpers import ingest, make_account, post

PUBLIC_URL = "https://desk.acme.test"


@pytest.fixture(autouse=True)
def _public_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Links in the mails come from SOCIALDESK_PUBLIC_URL, like in a real install."""
    monkeypatch.setenv("SOCIALDESK_PUBLIC_URL", PUBLIC_URL)
    reset_settings_cache()
    yield
    monkeypatch.delenv("SOCIALDESK_PUBLIC_URL")
    reset_settings_cache()


def _rule(db: Database, **action: object) -> int:
    with db.write() as s:
        ws = ensure_workspace(s)
        lead = create_user(s, "lead@acme.test", PASSWORD, Role.LEAD, workspace=ws)
        rule = save_rule(
            s,
            None,
            ws.id,
            name="Lawyer mentioned",
            event="ticket_created",
            conditions=[{"field": "text", "op": "contains", "value": "lawyer"}],
            actions=[
                {"type": "notify_email", "user_id": lead.id, "message": "legal threat", **action}
            ],
        )
        return int(rule.id)


def _fire(db: Database, settings: Settings) -> int:
    acct = make_account(db)
    message = post(acct, "n1", "@AcmeSupport my lawyer will call you")
    ingest(db, message, pipeline=build_pipeline(settings))
    with db.session() as s:
        ticket_id = s.scalar(select(Ticket.id))
        assert ticket_id is not None
        return ticket_id


def _rows(db: Database) -> list[NotificationOutboxEntry]:
    with db.session() as s:
        return list(s.scalars(select(NotificationOutboxEntry).order_by(NotificationOutboxEntry.id)))


def _config(mail: MailEmulator) -> SmtpConfig:
    return SmtpConfig(
        host=mail.host,
        port=mail.smtp_port,
        sender="desk@acme.test",
        username=mail.address,
        password=mail.password,
        starttls=False,  # loopback test server without TLS
    )


def test_rule_fires_and_the_mail_arrives(
    db: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    with MailEmulator() as mail:
        monkeypatch.setenv("SOCIALDESK_SMTP_HOST", mail.host)
        reset_settings_cache()
        rule_id = _rule(db, to="oncall@acme.test")
        ticket_id = _fire(db, get_settings())
        [row] = _rows(db)
        assert (row.state, row.ticket_id, row.rule_id) == ("queued", ticket_id, rule_id)
        worker = NotificationWorker(db, _config(mail))
        assert worker.run_once() == 1
        [sent] = mail.wait_for_sent(1)
        message = sent.message
        assert sorted(sent.rcpt_tos) == ["lead@acme.test", "oncall@acme.test"]
        assert message["To"] == "lead@acme.test, oncall@acme.test"
        assert message["From"] == "desk@acme.test"
        assert message["Subject"] == (
            f"[socialdesk] Lawyer mentioned: #{ticket_id} @AcmeSupport my lawyer will call you"
        )
        body = message.get_content()
        assert "legal threat" in body and f"{PUBLIC_URL}/tickets/{ticket_id}" in body
        assert worker.run_once() == 0  # sent once
        assert len(mail.sent()) == 1
    monkeypatch.delenv("SOCIALDESK_SMTP_HOST")
    [row] = _rows(db)
    assert row.state == "sent" and row.sent_at is not None and row.attempts == 1
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("socialdesk"))
    assert mail.password not in ours and mail.password not in repr(_config(mail))


def test_refused_credentials_fail_without_showing_the_password(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="socialdesk")
    _rule(db)
    _fire(db, get_settings())
    with MailEmulator() as mail:
        wrong = SmtpConfig(
            host=mail.host,
            port=mail.smtp_port,
            sender="desk@acme.test",
            username=mail.address,
            password="hunter2-not-it",
            starttls=False,
        )
        assert NotificationWorker(db, wrong).run_once() == 1
        assert not mail.sent()
    [row] = _rows(db)
    assert row.state == "failed" and row.last_error
    assert "hunter2" not in row.last_error and "hunter2" not in caplog.text


def test_temporary_refusal_is_retried_with_backoff_then_permanent_fails(db: Database) -> None:
    _rule(db)
    _fire(db, Settings())
    now = utcnow()
    clock = [now]
    with MailEmulator() as mail:
        worker = NotificationWorker(
            db, _config(mail), RetryPolicy(first_backoff=timedelta(seconds=30)), lambda: clock[0]
        )
        mail.reject_next(451, "4.3.0 try again later")
        assert worker.run_once() == 1
        [row] = _rows(db)
        assert row.state == "queued" and "try again later" in (row.last_error or "")
        assert row.next_attempt_at == now + timedelta(seconds=30)
        assert worker.run_once() == 0  # not due yet
        clock[0] = now + timedelta(seconds=31)
        mail.reject_next(550, "5.1.1 mailbox unknown")
        assert worker.run_once() == 1
        [row] = _rows(db)
        assert row.state == "failed" and "mailbox unknown" in (row.last_error or "")
        assert row.attempts == 2 and not mail.sent()


def test_without_smtp_the_row_waits_as_not_configured_and_the_admin_sees_it(
    db: Database,
) -> None:
    _rule(db)
    with db.write() as s:
        create_user(s, "admin@acme.test", PASSWORD, Role.ADMIN, workspace=ensure_workspace(s))
        create_user(s, "agent@acme.test", PASSWORD, Role.AGENT, workspace=ensure_workspace(s))
    _fire(db, Settings())
    [row] = _rows(db)  # written so by the rule: no SMTP host is set
    assert row.state == NOT_CONFIGURED and "SOCIALDESK_SMTP_HOST" in (row.last_error or "")
    assert NotificationWorker(db, None).run_once() == 0

    with serve(create_app(get_settings(), db)) as url:

        def client(email: str) -> httpx.Client:
            token = httpx.post(
                f"{url}/api/v1/auth/token", json={"email": email, "password": PASSWORD}, timeout=30
            ).json()["access_token"]
            return httpx.Client(
                base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}
            )

        with client("admin@acme.test") as admin, client("agent@acme.test") as agent:
            listed = admin.get("/notifications/email-outbox").json()
            assert listed["smtp_configured"] is False
            [shown] = listed["data"]
            assert shown["state"] == NOT_CONFIGURED and shown["recipients"] == ["lead@acme.test"]
            assert agent.get("/notifications/email-outbox").status_code == 403

    # Configured later: the waiting row goes out.
    with MailEmulator() as mail:
        assert NotificationWorker(db, _config(mail)).run_once() == 1
        [sent] = mail.wait_for_sent(1)
        assert sent.rcpt_tos == ("lead@acme.test",)
    assert _rows(db)[0].state == "sent"


def test_the_app_worker_sends_from_settings(db: Database) -> None:
    """The web app's own worker thread, configured only through SOCIALDESK_SMTP_* settings."""
    _rule(db, to="oncall@acme.test")
    with MailEmulator() as mail:
        settings = Settings(
            smtp_host=mail.host,
            smtp_port=mail.smtp_port,
            smtp_username=mail.address,
            smtp_password=mail.password,  # type: ignore[arg-type]  # pydantic parses it
            smtp_starttls=False,
            notify_from="desk@acme.test",
            public_url=PUBLIC_URL,
        )
        with serve(create_app(settings, db)):
            ticket_id = _fire(db, settings)
            [sent] = mail.wait_for_sent(1, timeout=15)
        assert f"{PUBLIC_URL}/tickets/{ticket_id}" in sent.message.get_content()
        assert sent.login == mail.address


def test_rows_queued_before_smtp_was_removed_are_marked_not_configured(db: Database) -> None:
    with db.write() as s:
        ws = ensure_workspace(s).id
        enqueue_email(
            s.connection(), workspace_id=ws, recipients=["lead@acme.test"], subject="s",
            body="b", now=utcnow(),
        )  # fmt: skip
    assert NotificationWorker(db, None).run_once() == 0
    [row] = _rows(db)
    assert row.state == NOT_CONFIGURED and "SOCIALDESK_SMTP_HOST" in (row.last_error or "")
