"""Collision warnings come from a shared store: every server process sees every viewer,
and each change is announced once on the live feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from socialdesk.actions import presence
from socialdesk.actions.presence import TYPING_TTL, VIEW_TTL, changed
from socialdesk.store.db import Database
from socialdesk.store.models import LiveFeedEntry, TicketPresence
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_settings_pages import PASSWORD

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _row(seen_ago: timedelta, typing_left: timedelta | None) -> TicketPresence:
    return TicketPresence(
        ticket_id=1,
        user_id=1,
        workspace_id=1,
        label="Ada",
        seen_at=NOW - seen_ago,
        typing_until=NOW + typing_left if typing_left is not None else None,
    )


@pytest.mark.parametrize(
    ("before", "typing", "expected"),
    [
        (None, False, True),  # arrived
        (_row(timedelta(seconds=3), None), False, False),  # still here
        (_row(VIEW_TTL + timedelta(seconds=1), None), False, True),  # back after expiring
        (_row(timedelta(seconds=3), None), True, True),  # started typing
        (_row(timedelta(seconds=3), TYPING_TTL), True, False),  # still typing
        (_row(timedelta(seconds=3), TYPING_TTL), False, True),  # stopped typing
        (_row(timedelta(seconds=3), -timedelta(seconds=1)), False, False),  # typing lapsed
    ],
)
def test_changed(before: TicketPresence | None, typing: bool, expected: bool) -> None:
    assert changed(before, NOW, typing=typing) is expected


def _feed(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(LiveFeedEntry)) or 0)


def test_viewers_are_shared_between_processes(db: Database) -> None:
    from socialdesk.actions.admin import create_user, ensure_workspace
    from socialdesk.domain.enums import Role

    with db.write() as s:
        ws = ensure_workspace(s)
        ada = create_user(s, "ada@example.com", PASSWORD, Role.AGENT, name="Ada", workspace=ws)
        bo = create_user(s, "bo@example.com", PASSWORD, Role.AGENT, name="Bo", workspace=ws)
        ada_id, bo_id, ws_id = ada.id, bo.id, ws.id
    ingest(db, post(make_account(db), "p1", "help"))
    ticket_id = 1
    server_a, server_b = Database(db.url), Database(db.url)  # two processes' engines
    try:
        assert presence.touch(server_a, ws_id, ticket_id, ada_id, "Ada", typing=False)
        assert not presence.touch(server_a, ws_id, ticket_id, ada_id, "Ada", typing=False)
        with server_b.session() as s:
            assert presence.others(s, ticket_id, bo_id) == [("Ada", False)]
            assert presence.others(s, ticket_id, ada_id) == []
        assert presence.touch(server_a, ws_id, ticket_id, ada_id, "Ada", typing=True)
        with server_b.session() as s:
            assert presence.others(s, ticket_id, bo_id) == [("Ada", True)]
        assert _feed(db) == 2  # arrived, started typing: one announcement each
        presence.leave(server_a, ws_id, ticket_id, ada_id)
        presence.leave(server_a, ws_id, ticket_id, ada_id)  # twice: announced once
        assert _feed(db) == 3
        with server_b.session() as s:
            assert presence.others(s, ticket_id, bo_id) == []
    finally:
        server_a.dispose()
        server_b.dispose()
