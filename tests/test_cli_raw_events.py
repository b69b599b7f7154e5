"""``socialdesk raw-events list|retry``: the failed deliveries from a shell."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.cli import app
from socialdesk.config import reset_settings_cache
from socialdesk.domain.enums import Platform
from socialdesk.pipeline.raw_events import RawDelivery, mark_failed, store_raw_events
from socialdesk.store.db import Database
from socialdesk.store.models import AuditEntry, Message, RawEvent

runner = CliRunner()
BRAND = "2244994945"


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("SOCIALDESK_DATABASE_URL", db.url)
    monkeypatch.setenv("COLUMNS", "200")
    reset_settings_cache()
    yield db
    reset_settings_cache()


def failed_delivery(db: Database, reason: str) -> int:
    """A good X delivery that an earlier (buggy) version failed with ``reason``."""
    body = {
        "for_user_id": BRAND,
        "tweet_create_events": [
            {
                "id_str": "5001",
                "text": "my order never came",
                "timestamp_ms": "1509487847000",
                "user": {"id_str": "77", "screen_name": "ana"},
            }
        ],
    }
    with db.write() as s:
        ws = ensure_workspace(s)
        create_channel_account(
            s, None, workspace_id=ws.id, platform=Platform.X, handle="Acme", external_id=BRAND
        )
        [raw_id] = store_raw_events(s.connection(), [RawDelivery("hooks:x", json.dumps(body))])
        mark_failed(s.connection(), raw_id, reason)
    return raw_id


def test_list_and_retry_from_the_shell(cli_db: Database) -> None:
    raw_id = failed_delivery(cli_db, "KeyError: 'flags'")
    listed = runner.invoke(app, ["raw-events", "list"])
    assert listed.exit_code == 0, listed.output
    assert "failed raw events (1 of 1)" in listed.output
    assert str(raw_id) in listed.output and "KeyError: 'flags'" in listed.output
    assert "hooks:x" in listed.output

    missing = runner.invoke(app, ["raw-events", "retry", "--id", "999999"])
    assert missing.exit_code == 2 and "no raw event 999999" in missing.output

    retried = runner.invoke(app, ["raw-events", "retry", "--id", str(raw_id), "--process"])
    assert retried.exit_code == 0, retried.output
    assert "1 raw event(s) queued again" in retried.output
    assert "1 message(s) stored; 0 failed again; 0 failed now" in retried.output
    with cli_db.session() as s:
        assert s.get_one(RawEvent, raw_id).status == "processed"
        assert list(s.scalars(select(Message.body))) == ["my order never came"]
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "raw_event.retried")).one()
        assert audit.actor_user_id is None and audit.data == {"count": 1, "ids": [raw_id]}

    nothing = runner.invoke(app, ["raw-events", "retry"])
    assert nothing.exit_code == 0 and "0 raw event(s) queued again" in nothing.output
    again = runner.invoke(app, ["raw-events", "retry", "--id", str(raw_id)])
    assert again.exit_code == 2 and "is processed, not failed" in again.output
    assert "no failed raw events" in runner.invoke(app, ["raw-events", "list"]).output


def test_bad_status_is_one_clear_line(cli_db: Database) -> None:
    result = runner.invoke(app, ["raw-events", "list", "--status", "bogus"])
    assert result.exit_code == 2
    assert "--status must be failed, pending or ignored" in result.output
    assert "Traceback" not in result.output
