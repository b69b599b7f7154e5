"""Canned answers grown up: categories, usage counted by the reply action through both
doors (API and composer form), short variants per network checked by each network's
length rule, "most used / never used" in the reports; the FAQ finder page per topic."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.domain.enums import Platform
from socialdesk.domain.length_rules import check_length
from socialdesk.knowledge.faq_report import is_automatic
from socialdesk.knowledge.short_variants import shorten, variant_for, variants
from socialdesk.store.db import Database
from socialdesk.store.models import CannedResponse, Message, Ticket
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_canned_responses import _bearer, _create
from tests.web.test_pages import app_db, client, seed_ticket, sign_in

__all__ = ["app_db", "client"]

LONG = (
    "Sorry to hear your parcel is late. Parcels can take up to five working days to reach "
    "you after dispatch, and longer around public holidays. If it has not arrived after "
    "that, send us your order number by direct message and we will trace it with the "
    "courier and send a replacement or a refund, whichever you prefer. " * 2
)


def _usage(db: Database, canned_id: int) -> tuple[int, bool]:
    with db.session() as s:
        canned = s.get_one(CannedResponse, canned_id)
        return canned.usage_count, canned.last_used_at is not None


def test_usage_is_counted_through_the_api_and_the_composer(
    client: TestClient, app_db: Database
) -> None:
    ticket_id = seed_ticket(app_db)
    lead = _bearer(client, "lead@example.com")
    late = _create(client, lead, shortcut="late", body=LONG, category=" Orders  ")
    _create(client, lead, shortcut="unused", body="Hello!", category="Greetings")
    assert late["category"] == "Orders" and late["usage_count"] == 0
    assert late["last_used_at"] is None
    listed = client.get("/api/v1/canned-responses", params={"category": "Orders"}, headers=lead)
    assert [c["shortcut"] for c in listed.json()] == ["late"]

    agent = _bearer(client, "agent@example.com")
    reply = {"body": "Parcels take five days.", "canned_response_ids": [late["id"]]}
    sent = client.post(f"/api/v1/tickets/{ticket_id}/replies", json=reply, headers=agent)
    assert sent.status_code == 201, sent.text
    assert _usage(app_db, late["id"]) == (1, True)
    unknown = {"body": "again", "canned_response_ids": [987654], "confirm": True}
    refused = client.post(f"/api/v1/tickets/{ticket_id}/replies", json=unknown, headers=agent)
    assert refused.status_code == 422 and "canned response 987654" in refused.text
    assert _usage(app_db, late["id"]) == (1, True)  # nothing written on a refusal

    csrf = sign_in(client, "agent@example.com")
    menu = client.get(f"/tickets/{ticket_id}/canned", params={"q": "late"}).text
    assert f'data-id="{late["id"]}"' in menu
    form = {"body": "Five days.", "canned_ids": str(late["id"]), "confirm": "1"}
    posted = client.post(f"/tickets/{ticket_id}/reply", data=form | {"csrf_token": csrf})
    assert posted.status_code == 303, posted.text
    assert _usage(app_db, late["id"]) == (2, True)
    bad = {"body": "x", "canned_ids": "1,two", "csrf_token": csrf, "confirm": "1"}
    assert client.post(f"/tickets/{ticket_id}/reply", data=bad).status_code == 422
    # A second public reply asks first; "Send anyway" still counts the canned answer.
    again = {"body": "Five days, as said.", "canned_ids": str(late["id"]), "csrf_token": csrf}
    asked = client.post(f"/tickets/{ticket_id}/reply", data=again)
    assert asked.status_code == 409 and "Send anyway" in asked.text
    assert f'name="canned_ids" value="{late["id"]}"' in asked.text
    assert _usage(app_db, late["id"]) == (2, True)  # nothing sent yet
    confirmed = client.post(f"/tickets/{ticket_id}/reply", data=again | {"confirm": "1"})
    assert confirmed.status_code == 303
    assert _usage(app_db, late["id"]) == (3, True)

    report = client.get("/api/v1/reports/canned", headers=lead).json()
    assert [(c["shortcut"], c["usage_count"]) for c in report["most_used"]] == [("late", 3)]
    assert [c["shortcut"] for c in report["never_used"]] == ["unused"]
    assert report["total"] == 2
    assert client.get("/api/v1/reports/canned", headers=agent).status_code == 403
    client.cookies.clear()
    sign_in(client, "lead@example.com")
    page = client.get("/reports").text
    assert "Most used canned answers" in page and "Canned answers never used" in page
    assert "/unused" in page


def test_variants_over_the_api_and_on_the_settings_page(
    client: TestClient, app_db: Database
) -> None:
    lead = _bearer(client, "lead@example.com")
    late = _create(client, lead, shortcut="late", body=LONG, short_body="Parcels take 5 days.")
    found = client.get(f"/api/v1/canned-responses/{late['id']}/variants", headers=lead)
    assert found.status_code == 200
    by_network = {v["network"]: v for v in found.json()}
    assert set(by_network) == {"x", "bluesky", "mastodon"}
    assert all(v["fits"] and v["source"] == "short_body" for v in by_network.values())
    assert client.get("/api/v1/canned-responses/987654/variants", headers=lead).status_code == 404
    sign_in(client, "lead@example.com")
    page = client.get("/settings/canned", params={"title": "Late parcels", "body": "Draft"})
    assert page.status_code == 200
    assert 'value="Late parcels"' in page.text and ">Draft</textarea>" in page.text
    assert "never used" in page.text


@pytest.mark.parametrize("network", [Platform.X, Platform.BLUESKY, Platform.MASTODON])
def test_shortened_text_fits_each_network(network: Platform) -> None:
    variant = variant_for(LONG, None, network)
    assert variant.source == "shortened" and variant.fits
    assert check_length(variant.text, network).fits
    assert LONG.startswith(variant.text)  # whole leading sentences


@pytest.mark.parametrize(
    ("body", "short", "source"),
    [
        ("Short enough.", None, "body"),
        (LONG, "Tiny.", "short_body"),
        (LONG, LONG, "shortened"),
    ],
)
def test_variant_source(body: str, short: str | None, source: str) -> None:
    assert {v.source for v in variants(body, short)} == {source}


def test_one_long_word_is_cut_with_an_ellipsis() -> None:
    text = shorten("word " * 200, Platform.X)
    assert text.endswith("…") and check_length(text, Platform.X).fits


@pytest.mark.parametrize(
    ("body", "meta", "automatic"),
    [
        ("Thanks, we have received your message.", {}, True),
        ("We're currently closed; we answer from 8:00.", None, True),
        ("Any text at all", {"automated": True}, True),
        ("You can change your PIN at any cash machine.", {}, False),
        ("We've received your message. " + "Here is the full answer. " * 20, {}, False),
    ],
)
def test_automatic_replies_are_recognised(
    body: str, meta: dict[str, Any] | None, automatic: bool
) -> None:
    assert is_automatic(body, meta) is automatic


def test_faq_page_per_topic_without_automatic_replies(client: TestClient, app_db: Database) -> None:
    account = make_account(app_db)
    ingest(
        app_db,
        *[
            post(account, f"q{i}", f"How do I reset my password please {i}", author=f"c{i}")
            for i in range(4)
        ],
    )
    with app_db.session() as s:
        tickets = list(s.scalars(select(Ticket.id)))
    with app_db.write() as s:
        for ticket_id in tickets:
            ticket = s.get_one(Ticket, ticket_id)
            ticket.topic = "account"
            question = s.scalars(select(Message).where(Message.ticket_id == ticket_id)).one()
            for minutes, author, body, meta in (
                (1, "automation", "We're closed now, back at 8.", {"automated": True}),
                (2, "Ann", "Use Forgot password on the sign-in page.", {}),
            ):
                s.add(
                    Message(
                        ticket_id=ticket_id, workspace_id=ticket.workspace_id,
                        channel_account_id=ticket.channel_account_id, platform=ticket.platform,
                        direction="outbound", author_name=author, body=body, meta=meta,
                        created_at=question.created_at + timedelta(minutes=minutes),
                    )
                )  # fmt: skip
    lead = _bearer(client, "lead@example.com")
    api = client.get("/api/v1/kb/faq", params={"topic": "account"}, headers=lead).json()
    assert api["questions"] == 4
    assert api["clusters"][0]["volume"] == 4
    assert "Forgot password" in api["clusters"][0]["draft"]["body"]
    assert "closed" not in api["clusters"][0]["draft"]["body"]
    other = client.get("/api/v1/kb/faq", params={"topic": "billing"}, headers=lead).json()
    assert other["questions"] == 0

    sign_in(client, "lead@example.com")
    page = client.get("/settings/faq", params={"topic": "account"})
    assert page.status_code == 200
    assert "Write an article from this cluster" in page.text
    assert "Make a canned answer" in page.text and "Nothing covers this yet" in page.text
    assert "/settings/kb/new?title=" in page.text
    assert client.get("/settings/faq", params={"since": "soon"}).status_code == 422
    assert client.get("/settings/faq", params={"account_id": "x"}).status_code == 422
    client.cookies.clear()
    sign_in(client, "agent@example.com")
    assert client.get("/settings/faq").status_code == 403
