"""Webhook endpoints over real HTTP: signatures, challenges, storage before the 200."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select, update

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.channels.signatures import meta_signature, x_crc_response_token, x_signature
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, Message, RawEvent, Ticket
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve

X_SECRET = "test_consumer_secret"
META_SECRET = "test_app_secret"
BRAND_X_ID = "2244994945"
PAGE_ID = "1029384756"


@dataclass
class Hooks:
    client: httpx.Client
    db: Database


@pytest.fixture
def hooks(db: Database) -> Iterator[Hooks]:
    with db.write() as s:
        ws = ensure_workspace(s)
        create_channel_account(
            s,
            None,
            workspace_id=ws.id,
            platform=Platform.X,
            handle="AcmeSupport",
            external_id=BRAND_X_ID,
        )
        create_channel_account(
            s,
            None,
            workspace_id=ws.id,
            platform=Platform.FACEBOOK,
            handle="Acme",
            external_id=PAGE_ID,
        )
    settings = Settings(
        x_consumer_secret=X_SECRET,
        meta_app_secret=META_SECRET,
        meta_verify_token="verify-me",
        max_webhook_body_bytes=50_000,
    )
    with serve(create_app(settings, db)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Hooks(client, db)


def _tweet(
    tweet_id: str, text: str, user_id: str = "115712", reply_to: str | None = None
) -> dict[str, object]:
    return {
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": text,
        "created_at": "Tue Oct 31 22:10:47 +0000 2017",
        "timestamp_ms": "1509487847000",
        "user": {
            "id_str": user_id,
            "screen_name": f"user{user_id}",
            "name": "A Customer",
            "followers_count": 42,
        },
        "in_reply_to_status_id_str": reply_to,
        "in_reply_to_user_id_str": None,
        "entities": {"user_mentions": [{"id_str": BRAND_X_ID, "screen_name": "AcmeSupport"}]},
    }


def _post_x(
    hooks: Hooks, payload: dict[str, object] | bytes, signature: str | None = "auto"
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    if signature == "auto":
        headers["x-twitter-webhooks-signature"] = x_signature(X_SECRET, body)
    elif signature is not None:
        headers["x-twitter-webhooks-signature"] = signature
    return hooks.client.post("/hooks/x", content=body, headers=headers)


def _wait_for(db: Database, model: type, count: int) -> int:
    deadline = time.monotonic() + 10
    while True:
        with db.session() as s:
            found = s.scalar(select(func.count()).select_from(model)) or 0
        if found >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _raw_count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(RawEvent)) or 0


def test_x_crc_matches_the_spec_vector(hooks: Hooks) -> None:
    r = hooks.client.get("/hooks/x", params={"crc_token": "challenge_string", "nonce": "ignored"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"response_token": "sha256=583uAmerwtjpykYEAEm+CEIRm6dOywK4QKRr0ha/Pd4="}
    assert r.json()["response_token"] == x_crc_response_token(X_SECRET, "challenge_string")
    assert hooks.client.get("/hooks/x").status_code == 400
    assert hooks.client.get("/hooks/x", params={"crc_token": "x" * 5000}).status_code == 400


def test_x_mention_becomes_ticket_and_redelivery_does_not_duplicate(hooks: Hooks) -> None:
    payload = {
        "for_user_id": BRAND_X_ID,
        "tweet_create_events": [_tweet("9001", "@AcmeSupport my card was charged twice")],
    }
    first = _post_x(hooks, payload)
    assert first.status_code == 200, first.text
    assert _post_x(hooks, payload).status_code == 200  # X redelivers
    assert _wait_for(hooks.db, Message, 1) == 1
    time.sleep(0.3)
    with hooks.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 1
        ticket = s.scalar(select(Ticket))
        assert ticket is not None and ticket.subject == "@AcmeSupport my card was charged twice"
        account = s.scalar(select(ChannelAccount).where(ChannelAccount.external_id == BRAND_X_ID))
        assert account is not None and account.last_received_at is not None
        assert {r.status for r in s.scalars(select(RawEvent))} == {"processed"}


def test_acknowledgement_does_not_wait_for_a_busy_ticket_writer(hooks: Hooks) -> None:
    """While another process holds the database's ticketing writes, the 200 still comes.

    On SQLite that writer holds the one write lock, so the delivery goes to the inbox
    spool; on PostgreSQL it only holds the rows it touched.
    """
    payload = {"for_user_id": BRAND_X_ID, "tweet_create_events": [_tweet("9010", "hello?")]}
    other_process = Database(hooks.db.url)
    try:
        with other_process.write() as s:
            s.execute(update(ChannelAccount).values(status_reason="busy elsewhere"))
            acknowledged = _post_x(hooks, payload)  # the client gives up after 10 s
            assert acknowledged.status_code == 200, acknowledged.text
            receipt = acknowledged.json()["receipt"]
            assert receipt.startswith("inbox-" if hooks.db.inbox_spool is not None else "raw-")
    finally:
        other_process.dispose()
    assert _wait_for(hooks.db, Message, 1) == 1
    with hooks.db.session() as s:
        raw = s.scalar(select(RawEvent))
        assert raw is not None and raw.status == "processed"
        if hooks.db.inbox_spool is not None:
            assert f"inbox-{raw.inbox_id}" == receipt
        else:
            assert f"raw-{raw.id}" == receipt


def test_forged_and_missing_signatures_create_nothing(hooks: Hooks) -> None:
    payload = {"for_user_id": BRAND_X_ID, "tweet_create_events": [_tweet("9002", "forged")]}
    assert _post_x(hooks, payload, signature=None).status_code == 401
    assert _post_x(hooks, payload, signature="sha256=AAAA").status_code == 403
    assert (
        _post_x(
            hooks, payload, signature=x_signature("wrong secret", json.dumps(payload).encode())
        ).status_code
        == 403
    )
    assert _raw_count(hooks.db) == 0


def test_malformed_json_gets_400_and_is_kept(hooks: Hooks) -> None:
    r = _post_x(hooks, b'{"for_user_id": "2244994945", "tweet_create_events": [')
    assert r.status_code == 400
    assert "malformed JSON" in r.json()["error"]["reason"]
    with hooks.db.session() as s:
        raw = s.scalar(select(RawEvent))
        assert (
            raw is not None
            and raw.status == "failed"
            and raw.error
            and raw.body.startswith('{"for_user_id"')
        )


def test_oversized_body_gets_413(hooks: Hooks) -> None:
    big = {"for_user_id": BRAND_X_ID, "tweet_create_events": [_tweet("9003", "x" * 60_000)]}
    assert _post_x(hooks, big).status_code == 413
    assert _raw_count(hooks.db) == 0


def test_echo_of_our_own_tweet_creates_nothing(hooks: Hooks) -> None:
    payload = {
        "for_user_id": BRAND_X_ID,
        "tweet_create_events": [_tweet("9004", "We're on it!", user_id=BRAND_X_ID)],
    }
    assert _post_x(hooks, payload).status_code == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with hooks.db.session() as s:
            if s.scalar(select(RawEvent.status)) == "processed":
                break
        time.sleep(0.05)
    with hooks.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0


def test_meta_hub_challenge_and_signed_comment(hooks: Hooks) -> None:
    ok = hooks.client.get(
        "/hooks/meta",
        params={
            "hub.mode": "subscribe",
            "hub.challenge": "1158201444",
            "hub.verify_token": "verify-me",
        },
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    bad = hooks.client.get(
        "/hooks/meta",
        params={"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "nope"},
    )
    assert bad.status_code == 403
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE_ID,
                    "time": 1509487847000,
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                "item": "comment",
                                "verb": "add",
                                "comment_id": f"{PAGE_ID}_1_2",
                                "post_id": f"{PAGE_ID}_1",
                                "parent_id": f"{PAGE_ID}_1",
                                "message": "Où est ma commande ?",
                                "from": {"id": "555", "name": "Ana"},
                                "created_time": 1509487847,
                            },
                        }
                    ],
                }
            ],
        },
        ensure_ascii=True,
    ).encode()
    assert (
        hooks.client.post(
            "/hooks/meta", content=body, headers={"X-Hub-Signature-256": "sha256=00"}
        ).status_code
        == 403
    )
    r = hooks.client.post(
        "/hooks/meta",
        content=body,
        headers={"X-Hub-Signature-256": meta_signature(META_SECRET, body)},
    )
    assert r.status_code == 200, r.text
    assert _wait_for(hooks.db, Message, 1) == 1
    with hooks.db.session() as s:
        message = s.scalar(select(Message))
        assert (
            message is not None
            and message.body == "Où est ma commande ?"
            and message.platform == "facebook"
        )
