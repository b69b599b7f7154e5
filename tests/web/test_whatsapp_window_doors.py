"""WhatsApp's 24-hour window through both doors: a free-text reply to a customer who
last wrote 25 hours ago is refused with the same reason by the API and by the
conversation page; the same reply with an approved template is stored through each."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.channels.whatsapp.names import WHATSAPP
from socialdesk.config import get_settings
from socialdesk.domain.enums import Role, Visibility
from socialdesk.domain.messages import Author, InboundMessage
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import Message
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from tests.pipeline.helpers import ingest

PASSWORD = "correct horse battery"
TEMPLATES = [{"name": "ticket_update", "language": "en_US", "body": "Update: {{1}}"}]


@pytest.fixture
def served(db: Database) -> Iterator[tuple[str, int]]:
    with db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, "agent@example.com", PASSWORD, Role.AGENT, name="Agent", workspace=ws)
        account = create_channel_account(
            s, None, workspace_id=ws.id, platform=WHATSAPP, handle="+15550000000",
            external_id="1065403", settings={"templates": TEMPLATES},
        ).id  # fmt: skip
    ingest(
        db,
        InboundMessage(
            channel_account_id=account,
            platform=WHATSAPP,
            platform_message_id="wamid.in",
            author=Author("4915112345", handle="+4915112345", display_name="Jonas"),
            body="Where is my refund?",
            created_at=utcnow() - timedelta(hours=25),
            visibility=Visibility.PRIVATE,
            conversation_id="1065403:4915112345",
        ),
    )
    with db.session() as s:
        ticket_id = int(s.scalar(select(Message.ticket_id).limit(1)) or 0)
    settings = get_settings().model_copy(update={"run_workers": False})
    with serve(create_app(settings, db)) as url:
        yield url, ticket_id


def _api(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url + "/api/v1", timeout=30)
    token = client.post("/auth/token", json={"email": "agent@example.com", "password": PASSWORD})
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


def _page(url: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url, timeout=30)
    login = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert login
    client.post(
        "/login",
        data={"email": "agent@example.com", "password": PASSWORD, "csrf_token": login[1]},
    )
    csrf = re.search(r'data-csrf="([^"]+)"', client.get("/inbox").text)
    assert csrf
    return client, csrf[1]


def _replies(db: Database, ticket_id: int) -> list[tuple[str, object]]:
    with db.session() as s:
        rows = s.scalars(
            select(Message).where(Message.ticket_id == ticket_id, Message.direction == "outbound")
        )
        return [(m.body, m.meta.get("template")) for m in rows]


def test_free_text_outside_the_window_is_refused_alike_and_a_template_goes_through(
    served: tuple[str, int], db: Database
) -> None:
    url, ticket_id = served
    api = _api(url)
    page, csrf = _page(url)

    by_api = api.post(f"/tickets/{ticket_id}/replies", json={"body": "Refund is on its way"})
    by_page = page.post(
        f"/tickets/{ticket_id}/reply",
        data={"body": "Refund is on its way", "kind": "dm", "csrf_token": csrf},
    )
    assert by_api.status_code == by_page.status_code == 422
    reason = by_api.json()["error"]["reason"]
    assert "customer-service window closed" in reason and "choose a template" in reason
    assert reason in html.unescape(by_page.text)
    assert _replies(db, ticket_id) == []

    conversation = page.get(f"/tickets/{ticket_id}").text
    assert 'name="template"' in conversation and ">ticket_update</option>" in conversation
    assert "customer-service window closed" in html.unescape(conversation)
    # A chat network: every reply is a DM, so no public option and no "move to private".
    assert 'name="kind" value="public"' not in conversation
    assert "Move to private" not in conversation

    ok_api = api.post(
        f"/tickets/{ticket_id}/replies",
        json={"body": "refund sent", "template": "ticket_update", "confirm": True},
    )
    ok_page = page.post(
        f"/tickets/{ticket_id}/reply",
        data={"body": "refund mailed", "kind": "dm", "template": "ticket_update",
              "csrf_token": csrf, "confirm": "1"},
    )  # fmt: skip
    assert ok_api.status_code == 201 and ok_page.status_code in (200, 303)
    template = {"name": "ticket_update", "language": "en_US"}
    assert _replies(db, ticket_id) == [
        ("Update: refund sent", {**template, "parameters": ["refund sent"]}),
        ("Update: refund mailed", {**template, "parameters": ["refund mailed"]}),
    ]
    assert page.get(f"/tickets/{ticket_id}").text.count("template ticket_update") == 2
