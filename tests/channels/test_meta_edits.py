"""Edited and removed comments: the pure rule, the pipeline's update path against the
database, and end to end from the Meta emulator's signed webhook to the API and the
conversation page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.channels.meta.emulator import create_meta_emulator
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, Role, TicketEventKind
from socialdesk.domain.messages import InboundMessage, MessageChange
from socialdesk.emulators.server import serve_app
from socialdesk.pipeline.message_changes import ChangeSkip, StoredState, decide
from socialdesk.store.db import Database
from socialdesk.store.models import Message, Ticket, TicketEvent
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from tests.delivery.helpers import eventually
from tests.pipeline.helpers import T0, ingest, make_account, post

SECRET = "emulated_app_secret"
PASSWORD = "correct horse battery"


def change(
    m: InboundMessage, kind: MessageChange, body: str | None = None, minutes: float = 1
) -> InboundMessage:
    return replace(
        m,
        body=m.body if body is None else body,
        change=kind,
        changed_at=T0 + timedelta(minutes=minutes),
    )


# -- the rule ----------------------------------------------------------------------------

STORED = StoredState(id=1, ticket_id=2, workspace_id=3, body="typo", meta={})
EDITED = StoredState(
    id=1,
    ticket_id=2,
    workspace_id=3,
    body="fixed",
    meta={"edited_at": (T0 + timedelta(minutes=5)).isoformat(), "edits": [{"body": "typo"}]},
)
REMOVED = StoredState(id=1, ticket_id=2, workspace_id=3, body="typo", meta={"removed_at": "x"})
ORIGINAL = post(1, "c1", "typo", platform=Platform.FACEBOOK)


@pytest.mark.parametrize(
    ("stored", "kind", "body", "minutes", "expected_body", "event", "skip"),
    [
        (STORED, MessageChange.EDITED, "fixed", 1, "fixed", TicketEventKind.MESSAGE_EDITED, None),
        (STORED, MessageChange.EDITED, "typo", 1, None, None, ChangeSkip.UNCHANGED),
        (EDITED, MessageChange.EDITED, "fixed", 6, None, None, ChangeSkip.UNCHANGED),
        (EDITED, MessageChange.EDITED, "older", 4, None, None, ChangeSkip.UNCHANGED),
        (EDITED, MessageChange.EDITED, "newer", 6, "newer", TicketEventKind.MESSAGE_EDITED, None),
        (STORED, MessageChange.REMOVED, "", 1, "typo", TicketEventKind.MESSAGE_REMOVED, None),
        (REMOVED, MessageChange.REMOVED, "", 2, None, None, ChangeSkip.UNCHANGED),
        (REMOVED, MessageChange.EDITED, "again", 2, None, None, ChangeSkip.UNCHANGED),
    ],
)
def test_decide(
    stored: StoredState,
    kind: MessageChange,
    body: str,
    minutes: float,
    expected_body: str | None,
    event: TicketEventKind | None,
    skip: str | None,
) -> None:
    decision = decide(stored, change(ORIGINAL, kind, body, minutes))
    assert decision.kind == event
    assert decision.skip == skip
    assert (decision.state.body if decision.state else None) == expected_body
    if decision.kind is TicketEventKind.MESSAGE_EDITED:
        assert decision.event and decision.event["previous_body"] == stored.body
        assert decision.state and decision.state.meta["edits"][-1]["body"] == stored.body
    if decision.kind is TicketEventKind.MESSAGE_REMOVED:
        assert decision.state and decision.state.meta["removed_at"]


# -- the pipeline ------------------------------------------------------------------------


def _message(db: Database, account: int, pid: str) -> Message:
    with db.session() as s:
        found = s.scalar(
            select(Message).where(
                Message.channel_account_id == account, Message.platform_message_id == pid
            )
        )
        assert found is not None
        s.expunge(found)
        return found


def _events(db: Database, ticket_id: int, kind: TicketEventKind) -> list[dict[str, Any]]:
    with db.session() as s:
        return [
            e.data
            for e in s.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == str(kind))
                .order_by(TicketEvent.id)
            )
        ]


def test_edit_updates_the_message_and_keeps_the_earlier_text(db: Database) -> None:
    account = make_account(db, Platform.FACEBOOK)
    original = post(account, "c1", "my odrer is late", platform=Platform.FACEBOOK)
    assert ingest(db, original).stored == 1
    edit = change(original, MessageChange.EDITED, "my order is late")
    result = ingest(db, edit)
    stored = _message(db, account, "c1")
    assert result.changed == [stored.id] and result.message_ids == [stored.id]
    assert stored.body == "my order is late"
    assert stored.meta["edits"][0]["body"] == "my odrer is late"
    assert _events(db, stored.ticket_id, TicketEventKind.MESSAGE_EDITED) == [
        {
            "message_id": stored.id,
            "platform_message_id": "c1",
            "previous_body": "my odrer is late",
            "body": "my order is late",
        }
    ]
    # The same edit delivered again changes nothing and records nothing.
    again = ingest(db, edit)
    assert again.message_ids == [None] and again.skipped == {"duplicate": 1}
    assert len(_events(db, stored.ticket_id, TicketEventKind.MESSAGE_EDITED)) == 1
    with db.session() as s:
        assert s.scalar(select(Ticket.message_count).where(Ticket.id == stored.ticket_id)) == 1


def test_removal_marks_the_message_and_keeps_it(db: Database) -> None:
    account = make_account(db, Platform.FACEBOOK)
    original = post(account, "c2", "never mind", platform=Platform.FACEBOOK)
    ingest(db, original)
    removal = change(original, MessageChange.REMOVED, "")
    assert ingest(db, removal).changed
    assert ingest(db, removal).changed == []  # redelivered: nothing new
    stored = _message(db, account, "c2")
    assert stored.body == "never mind" and stored.meta["removed_at"]
    assert len(_events(db, stored.ticket_id, TicketEventKind.MESSAGE_REMOVED)) == 1


def test_edit_before_its_original_creates_the_message_with_the_edited_text(
    db: Database,
) -> None:
    account = make_account(db, Platform.FACEBOOK)
    original = post(account, "c3", "first words", platform=Platform.FACEBOOK)
    edit = change(original, MessageChange.EDITED, "second words")
    result = ingest(db, edit)
    assert result.stored == 1 and len(result.tickets_created) == 1
    assert ingest(db, original).skipped == {"duplicate": 1}  # the original, late
    stored = _message(db, account, "c3")
    assert stored.body == "second words" and stored.meta["edited_at"]


def test_one_batch_with_the_original_two_edits_and_a_removal(db: Database) -> None:
    account = make_account(db, Platform.FACEBOOK)
    original = post(account, "c4", "one", platform=Platform.FACEBOOK)
    other = post(account, "c5", "unrelated", author="999", platform=Platform.FACEBOOK)
    batch = [
        change(original, MessageChange.EDITED, "three", minutes=3),
        original,
        change(original, MessageChange.EDITED, "two", minutes=2),
        other,
        change(post(account, "gone", "", platform=Platform.FACEBOOK), MessageChange.REMOVED),
    ]
    result = ingest(db, *batch)
    stored = _message(db, account, "c4")
    assert stored.body == "three"
    assert [e["body"] for e in stored.meta["edits"]] == ["one", "two"]
    assert result.message_ids[1] == stored.id and result.message_ids[4] is None
    assert result.skipped == {ChangeSkip.UNKNOWN_REMOVED: 1}


# -- end to end --------------------------------------------------------------------------


@pytest.fixture
def desk(db: Database) -> Iterator[tuple[httpx.Client, httpx.Client, str]]:
    """The Meta emulator and socialdesk on loopback, webhooks wired; yields the
    emulator client, the API client (admin) and the Page id."""
    with db.write() as s:
        create_user(s, "admin@example.com", PASSWORD, Role.ADMIN, workspace=ensure_workspace(s))
    app = create_meta_emulator(SECRET, verify_token="vt", retry_delay_seconds=0.05)
    with serve_app(app) as meta_url, httpx.Client(base_url=meta_url) as meta:
        page = meta.post("/_emulator/accounts", json={"kind": "page", "name": "Acme"}).json()
        token = meta.post("/_emulator/tokens", json={"account_id": page["id"]}).json()
        settings = Settings(
            meta_app_secret=SECRET, meta_verify_token="vt", meta_graph_base_url=meta_url
        )
        with serve(create_app(settings, db)) as base:
            api = httpx.Client(base_url=base + "/api/v1", timeout=30)
            login = {"email": "admin@example.com", "password": PASSWORD}
            bearer = api.post("/auth/token", json=login).json()["access_token"]
            api.headers["Authorization"] = f"Bearer {bearer}"
            created = api.post(
                "/channel-accounts",
                json={
                    "platform": "facebook",
                    "handle": "Acme",
                    "external_id": page["id"],
                    "secrets": {"access_token": token["access_token"]},
                },
            )
            assert created.status_code == 201
            meta.put("/_emulator/webhook", json={"url": base + "/hooks/meta"})
            yield meta, api, page["id"]
            api.close()


def test_edit_and_removal_from_the_emulator_reach_the_ticket(
    db: Database, desk: tuple[httpx.Client, httpx.Client, str]
) -> None:
    meta, api, page_id = desk
    first = meta.post(
        "/_emulator/customer/page_comment",
        json={"page_id": page_id, "message": "Wrong size delivred", "customer": {"name": "Ana"}},
    ).json()
    second = meta.post(
        "/_emulator/customer/page_comment",
        json={"page_id": page_id, "message": "also the box was open", "customer": {"name": "Ana"}},
    ).json()
    ticket = eventually(
        lambda: (
            (t := api.get("/tickets", params={"channel": "facebook"}).json()["data"])
            and api.get(f"/tickets/{t[0]['id']}").json()
        )
    )
    eventually(lambda: len(api.get(f"/tickets/{ticket['id']}").json()["messages"]) == 2)

    # Each change is delivered twice, as Meta may: one update either way.
    meta.put("/_emulator/webhook", json={"duplicate_deliveries": 1})
    edit = meta.post(
        f"/_emulator/customer/page_comment/{first['comment_id']}/edit",
        json={"message": "Wrong size delivered"},
    )
    assert [d["status"] for d in edit.json()["deliveries"]] == [200, 200]
    meta.post(f"/_emulator/customer/page_comment/{second['comment_id']}/remove")

    def bodies() -> list[str]:
        return [m["body"] for m in api.get(f"/tickets/{ticket['id']}").json()["messages"]]

    eventually(lambda: bodies()[0] == "Wrong size delivered")
    eventually(lambda: _events(db, ticket["id"], TicketEventKind.MESSAGE_REMOVED))
    assert bodies() == ["Wrong size delivered", "also the box was open"]
    edits = _events(db, ticket["id"], TicketEventKind.MESSAGE_EDITED)
    assert [e["previous_body"] for e in edits] == ["Wrong size delivred"]
    assert len(_events(db, ticket["id"], TicketEventKind.MESSAGE_REMOVED)) == 1

    page = _conversation_page(api, ticket["id"])
    assert page.count(">edited</span>") == 1
    assert page.count("removed by author") == 1
    assert "Wrong size delivred" in page  # the earlier text, under "Earlier text"


def _conversation_page(api: httpx.Client, ticket_id: int) -> str:
    """The agent's conversation page, signed in through the login form."""
    base = str(api.base_url).rstrip("/").removesuffix("/api/v1")
    with httpx.Client(base_url=base, timeout=30) as web:
        form = web.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf
        login = {"email": "admin@example.com", "password": PASSWORD, "csrf_token": csrf[1]}
        assert web.post("/login", data=login).status_code == 303
        response = web.get(f"/tickets/{ticket_id}")
        assert response.status_code == 200
        return response.text


def test_edit_delivered_before_its_comment_keeps_the_edited_text(
    db: Database, desk: tuple[httpx.Client, httpx.Client, str]
) -> None:
    meta, api, page_id = desk
    meta.put("/_emulator/webhook", json={"hold": True})
    comment = meta.post(
        "/_emulator/customer/page_comment",
        json={"page_id": page_id, "message": "refund pls", "customer": {"name": "Bo"}},
    ).json()
    meta.post(
        f"/_emulator/customer/page_comment/{comment['comment_id']}/edit",
        json={"message": "Could I get a refund, please?"},
    )
    meta.put("/_emulator/webhook", json={"hold": False})
    flushed = meta.post("/_emulator/webhook/flush", json={"order": "reverse"}).json()
    assert flushed
    tickets = eventually(lambda: api.get("/tickets", params={"channel": "facebook"}).json()["data"])
    detail = eventually(
        lambda: (d := api.get(f"/tickets/{tickets[0]['id']}").json())["messages"] and d
    )
    assert [m["body"] for m in detail["messages"]] == ["Could I get a refund, please?"]
    assert ">edited</span>" in _conversation_page(api, tickets[0]["id"])
