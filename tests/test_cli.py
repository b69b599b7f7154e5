"""The CLI answers bad input with a message and exit code 2, never a stack trace."""

from __future__ import annotations

import imaplib
import json
import os
import queue
import smtplib
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.cli import app
from socialdesk.config import reset_settings_cache
from socialdesk.domain.enums import Platform
from socialdesk.store.db import Database
from socialdesk.store.inbox_spool import InboxSpool
from socialdesk.store.models import Message, RawEvent

runner = CliRunner()


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("SOCIALDESK_DATABASE_URL", db.url)
    reset_settings_cache()
    yield db
    reset_settings_cache()


def test_createuser_and_its_errors(cli_db: Database) -> None:
    ok = runner.invoke(
        app,
        [
            "createuser",
            "--email",
            "Lead@Example.com",
            "--password",
            "long enough",
            "--role",
            "lead",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "lead@example.com" in ok.output
    again = runner.invoke(
        app, ["createuser", "--email", "lead@example.com", "--password", "long enough"]
    )
    assert again.exit_code == 2 and "already exists" in again.output
    bad_role = runner.invoke(
        app,
        ["createuser", "--email", "a@example.com", "--password", "long enough", "--role", "boss"],
    )
    assert bad_role.exit_code == 2 and "unknown role" in bad_role.output
    short = runner.invoke(app, ["createuser", "--email", "b@example.com", "--password", "short"])
    assert short.exit_code == 2 and "at least 8" in short.output
    assert "Traceback" not in again.output + bad_role.output + short.output


def test_replay_reports_and_refuses_bad_files(
    cli_db: Database, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALDESK_TRIAGE_ENCODER", "true")
    reset_settings_cache()
    loaded = runner.invoke(app, ["replay", str(shared_data / "twcs" / "twcs_kaggle_sample.csv")])
    assert loaded.exit_code == 0, loaded.output
    assert "rows loaded" in loaded.output and "tickets created" in loaded.output
    # Both triage passes are done when replay returns: nothing waits for the encoder.
    assert "messages refined by the encoder" in loaded.output
    with cli_db.session() as s:
        inbound = s.scalars(select(Message).where(Message.direction == "inbound")).all()
        assert inbound and all(m.triage and m.triage.get("refined") for m in inbound)
        assert not any(m.triage_pending for m in inbound)
    # The demo leaves the second pass to the workers: replay returns after the first.
    later = runner.invoke(
        app, ["replay", "--no-encoder-pass", str(shared_data / "twcs" / "twcs_kaggle_sample.csv")]
    )
    assert later.exit_code == 0, later.output
    assert "triage encoder pass" not in later.output
    missing = runner.invoke(app, ["replay", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    bad = runner.invoke(app, ["replay", str(wrong)])
    assert bad.exit_code == 2 and "missing column" in bad.output


def test_emulate_unknown_platform() -> None:
    result = runner.invoke(app, ["emulate", "myspace"])
    assert result.exit_code == 2 and "no emulator" in result.output


def _x_delivery(tweet_id: str, text: str) -> tuple[str, int | None, dict[str, str], str]:
    tweet = {
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": text,
        "created_at": "Mon Nov 23 21:10:47 +0000 2026",
        "timestamp_ms": "1795468247000",
        "user": {"id_str": "7007", "screen_name": "sarah", "name": "Sarah"},
        "in_reply_to_status_id_str": None,
        "entities": {"user_mentions": [{"id_str": "1001", "screen_name": "AcmeSupport"}]},
    }
    body = json.dumps({"for_user_id": "1001", "tweet_create_events": [tweet]})
    # 999: an account id of the deleted database, meaningless here.
    return ("hooks:x", 999, {"content-type": "application/json"}, body)


def test_import_spool_tickets_an_orphaned_spool_once(cli_db: Database, tmp_path: Path) -> None:
    with cli_db.write() as s:
        create_channel_account(
            s,
            None,
            workspace_id=ensure_workspace(s).id,
            platform=Platform.X,
            handle="AcmeSupport",
            external_id="1001",
        )
    orphan = tmp_path / "old.db-inbox-orphaned-20261123T000000Z"
    spool = InboxSpool(str(orphan))
    spool.append(
        [
            _x_delivery("881", "@AcmeSupport my parcel never arrived"),
            _x_delivery("882", "@AcmeSupport and the app logs me out"),
            _x_delivery("881", "@AcmeSupport my parcel never arrived"),  # a redelivery
            ("hooks:x", None, {}, '{"for_user_id": "1001", "tweet_create_events": [{"id'),
        ],
        datetime.now(UTC),
    )
    spool.close()

    result = runner.invoke(app, ["import-spool", str(orphan)])

    assert result.exit_code == 0, result.output
    assert "deliveries imported" in result.output and "messages created" in result.output
    with cli_db.session() as s:
        bodies = sorted(s.scalars(select(Message.body)))
        statuses = sorted(s.scalars(select(RawEvent.status)))
        inbox_ids = set(s.scalars(select(RawEvent.inbox_id)))
    assert bodies == [
        "@AcmeSupport and the app logs me out",
        "@AcmeSupport my parcel never arrived",
    ]
    assert statuses == ["failed", "processed", "processed", "processed"]
    assert inbox_ids == {None}  # the orphan's ids must not shadow this database's own spool
    assert InboxSpool(str(orphan)).count() == 0

    again = runner.invoke(app, ["import-spool", str(orphan)])
    assert again.exit_code == 0 and "deliveries imported" in again.output
    with cli_db.session() as s:
        assert s.scalar(select(func.count()).select_from(RawEvent)) == 4


def test_import_spool_refuses_what_is_not_an_orphaned_spool(
    cli_db: Database, tmp_path: Path
) -> None:
    missing = runner.invoke(app, ["import-spool", str(tmp_path / "nope-inbox")])
    assert missing.exit_code == 2 and "no such file" in missing.output

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    not_spool = runner.invoke(app, ["import-spool", str(other)])
    assert not_spool.exit_code == 2 and "not an inbox spool" in not_spool.output
    with sqlite3.connect(other) as conn:  # looked at, never changed
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["notes"]

    text = tmp_path / "readme.txt"
    text.write_text("hello, this is not SQLite at all, it is just some text\n" * 20)
    not_sqlite = runner.invoke(app, ["import-spool", str(text)])
    assert not_sqlite.exit_code == 2 and "not an inbox spool" in not_sqlite.output

    own = cli_db.inbox_spool
    if own is not None:  # SQLite: the database's own spool drains by itself
        own.count()  # makes sure the file exists
        refused = runner.invoke(app, ["import-spool", own.path])
        assert refused.exit_code == 2 and "own spool" in refused.output
    outputs = missing.output + not_spool.output + not_sqlite.output
    assert "Traceback" not in outputs


def _two_free_ports() -> int:
    for _ in range(50):
        with socket.socket() as first, socket.socket() as second:
            try:
                first.bind(("127.0.0.1", 0))
                port = first.getsockname()[1]
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return int(port)
    raise AssertionError("no two consecutive free ports")


def test_emulate_email_serves_a_real_mailbox_and_shows_what_is_sent() -> None:
    port = _two_free_ports()
    process = subprocess.Popen(
        [sys.executable, "-m", "socialdesk.cli", "emulate", "email", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
    )
    assert process.stdout is not None
    printed: queue.Queue[str] = queue.Queue()

    # A reader thread: a silent process must fail the test, not hang it on readline().
    def pump() -> None:
        for line in process.stdout or ():
            printed.put(line)

    threading.Thread(target=pump, daemon=True).start()
    lines: list[str] = []

    def read_until(needle: str) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                line = printed.get(timeout=0.5)
            except queue.Empty:
                continue
            lines.append(line)
            if needle in line:
                return
        raise AssertionError(f"{needle!r} not printed: {''.join(lines)}")

    try:
        read_until("act as a customer")
        output = "".join(lines)
        assert f"IMAP on 127.0.0.1:{port}, SMTP on 127.0.0.1:{port + 1}" in output
        assert '"imap_port": ' + str(port) in output
        address, password = "support@acme.test", "mail-test-password"
        with imaplib.IMAP4("127.0.0.1", port) as imap:  # a customer's mail arrives
            imap.login(address, password)
            customer = b"From: ann@example.org\r\nSubject: Order 7\r\n\r\nWhere is it?\r\n"
            assert (
                imap.append("INBOX", "", imaplib.Time2Internaldate(time.time()), customer)[0]
                == "OK"
            )
            assert imap.select("INBOX")[1] == [b"1"]
        with smtplib.SMTP("127.0.0.1", port + 1) as smtp:  # and our answer goes out
            smtp.login(address, password)
            smtp.sendmail(
                address, ["ann@example.org"], b"Subject: Re: Order 7\r\n\r\nIt ships today.\r\n"
            )
        read_until("sent: to ann@example.org: Re: Order 7")
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "Traceback" not in "".join(lines)
