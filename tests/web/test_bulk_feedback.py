"""Bulk actions say what they did: how many tickets changed, which were skipped and why
one refused ticket does not undo the others (issue 12: "bulk actions give no feedback")."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.store.db import Database
from socialdesk.store.models import Ticket
from socialdesk.web.pages.inbox import bulk_notice
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_pages import app_db, client, sign_in

__all__ = ["app_db", "client"]


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({}, ""),
        ({"bulk": "drop_table"}, ""),
        ({"bulk": "solve", "done": "1"}, "1 ticket solved."),
        ({"bulk": "tag", "done": "3"}, "3 tickets tagged."),
        ({"bulk": "assign_me", "done": "2"}, "2 tickets assigned to you."),
        (
            {"bulk": "solve", "done": "2", "skipped": "7,9"},
            "2 tickets solved. Not changed: #7, #9 (open a ticket to see why).",
        ),
        ({"bulk": "solve"}, "Select one or more tickets first, then choose the action."),
        (
            {"bulk": "assign", "done": "100", "over": "5"},
            "100 tickets assigned. 5 more were not changed: one action takes 100 at most.",
        ),
        # Made-up values are ignored, never echoed.
        ({"bulk": "solve", "done": "<b>", "skipped": "x,<i>,4"}, "0 tickets solved. Not"
         " changed: #4 (open a ticket to see why)."),
    ],
)  # fmt: skip
def test_bulk_notice_words(params: dict[str, str], said: str) -> None:
    assert bulk_notice(params) == said


def test_one_refused_ticket_does_not_undo_the_others(client: TestClient, app_db: Database) -> None:
    account = make_account(app_db)
    ingest(app_db, *[post(account, f"b{i}", f"bulk {i}", author=f"c{i}") for i in range(3)])
    with app_db.session() as s:
        ids = list(s.scalars(select(Ticket.id).order_by(Ticket.id)))
    csrf = sign_in(client, "agent@example.com")
    missing = ids[-1] + 1000
    r = client.post(
        "/inbox/bulk",
        data={
            "action": "solve",
            "ticket_id": [str(ids[0]), str(missing), str(ids[1])],
            "back": "/inbox?view=open&bulk=tag&done=9",
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 303
    where = r.headers["location"]
    assert where.startswith("/inbox?view=open&") and "done=9" not in where
    with app_db.session() as s:
        statuses = {t.id: t.status for t in s.scalars(select(Ticket))}
    assert [statuses[i] for i in ids] == ["solved", "solved", "new"]
    page = client.get(where).text
    assert f"2 tickets solved. Not changed: #{missing} (open a ticket to see why)." in page

    # Nothing selected: the page says so instead of silently doing nothing.
    r = client.post("/inbox/bulk", data={"action": "solve", "csrf_token": csrf})
    assert "Select one or more tickets first" in client.get(r.headers["location"]).text
