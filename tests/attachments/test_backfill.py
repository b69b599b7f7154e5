"""``socialdesk attachments backfill``: old Messenger rows that kept their attachments in
``messages.meta`` get rows through the same parser, once; the command is safe to rerun."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.config import reset_settings_cache
from socialdesk.domain.enums import Platform
from socialdesk.pipeline.attachment_backfill import attachments_in_meta
from socialdesk.store.db import Database
from socialdesk.store.models import Message, MessageAttachment
from tests.pipeline.helpers import ingest, make_account, post

runner = CliRunner()
OLD_CDN = "https://scontent.xx.fbcdn.net/v/t1/photo.jpg?oe=7F000000"


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("SOCIALDESK_DATABASE_URL", db.url)
    reset_settings_cache()
    yield db
    reset_settings_cache()


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({}, []),
        ({"attachments": "not a list"}, []),
        ({"attachments": [None, 3]}, []),
        (
            {"attachments": [{"type": "image", "url": OLD_CDN}]},
            [{"type": "image", "payload": {"url": OLD_CDN}}],
        ),
    ],
)
def test_old_meta_reads_as_metas_webhook_shape(meta: dict[str, object], expected: object) -> None:
    assert attachments_in_meta(meta) == expected


def test_backfill_fills_old_rows_once(cli_db: Database) -> None:
    account = make_account(cli_db, Platform.MESSENGER, "Acme")
    ingest(cli_db, post(account, "m_old", ""), post(account, "m_plain", "hello"))
    with cli_db.write() as s:
        s.execute(
            update(Message)
            .where(Message.platform_message_id == "m_old")
            .values(
                meta={
                    "attachments": [
                        {"type": "image", "url": OLD_CDN},
                        {"type": "video", "url": "https://video.example/v.mp4"},
                    ]
                }
            )
        )
    first = runner.invoke(app, ["attachments", "backfill"])
    assert first.exit_code == 0, first.output
    assert "2 attachments added to 1 messages (2 messages read)" in first.output
    with cli_db.session() as s:
        rows = s.execute(
            select(Message.platform_message_id, MessageAttachment.position, MessageAttachment.kind)
            .join(Message, Message.id == MessageAttachment.message_id)
            .order_by(MessageAttachment.position)
        ).all()
        expires = s.scalar(
            select(MessageAttachment.expires_at).where(MessageAttachment.position == 0)
        )
    assert [tuple(r) for r in rows] == [("m_old", 0, "image"), ("m_old", 1, "video")]
    assert expires is not None and expires.year == 2037  # the parser read Meta's oe=
    again = runner.invoke(app, ["attachments", "backfill"])
    assert again.exit_code == 0 and "0 attachments added to 0 messages" in again.output
