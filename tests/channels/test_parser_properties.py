"""Property tests for every parser of what the networks send: any JSON, and the real
fixtures with any part replaced by any JSON, either parses or raises the project's
PayloadError (the raw event is then marked failed) — never another exception, which
would escape the parser as a crash. A few go through HTTP too: a correctly signed body,
whatever it holds, is answered 2xx or 4xx."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialdesk.channels.base import AccountRef, PayloadError
from socialdesk.channels.bluesky.chat import LOG_CREATE_MESSAGE, parse_log_entry
from socialdesk.channels.bluesky.notifications import notification_message
from socialdesk.channels.mastodon.connector import MastodonConnector
from socialdesk.channels.meta.connector import MetaConnector
from socialdesk.channels.signatures import (
    META_SIGNATURE_HEADER,
    X_SIGNATURE_HEADER,
    meta_signature,
    x_signature,
)
from socialdesk.channels.webform.connector import FormError, to_message, validate
from socialdesk.channels.x.events import parse_account_activity
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform
from socialdesk.store.db import Database
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROPERTY = settings(
    # SOCIALDESK_PROPERTY_EXAMPLES raises it for a longer hunt.
    max_examples=int(os.environ.get("SOCIALDESK_PROPERTY_EXAMPLES", "150")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and infinity too: Python's json module reads them
    | st.text(max_size=30)
    | st.sampled_from(["", "0", "2026-01-01T00:00:00Z", "mention", "page", "instagram"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


def mutated(node: Any) -> st.SearchStrategy[Any]:
    """``node`` with any of its parts (itself included) replaced by any JSON value."""
    if isinstance(node, dict):
        inner: st.SearchStrategy[Any] = st.fixed_dictionaries(
            {k: mutated(v) for k, v in node.items()}
        )
    elif isinstance(node, list) and node:
        inner = st.tuples(*(mutated(v) for v in node)).map(list)
    else:
        inner = st.just(node)
    return st.one_of(st.just(node), inner, inner, json_values)


def _fixture(path: str) -> Any:
    return json.loads((FIXTURES / path).read_text())


def _account(platform: Platform, external_id: str = "brand") -> AccountRef:
    return AccountRef(id=1, platform=platform, external_id=external_id, handle="brand")


def _resolve(platform: Platform, external_id: str) -> AccountRef:
    return _account(platform, external_id)  # every id is ours: the deepest code runs


def _parses_or_payload_error(parse: Callable[[], object]) -> None:
    with contextlib.suppress(PayloadError):
        parse()


def _body(value: Any) -> bytes:
    return json.dumps(value).encode()


# -- X Account Activity ---------------------------------------------------------------

X_FIXTURES = [p.name for p in sorted((FIXTURES / "x").glob("*.json"))]


@PROPERTY
@given(value=json_values)
def test_x_any_json(value: Any) -> None:
    _parses_or_payload_error(lambda: parse_account_activity(_body(value), _resolve, "app"))


@pytest.mark.parametrize("name", X_FIXTURES)
def test_x_mutated_fixtures(name: str) -> None:
    @PROPERTY
    @given(value=mutated(_fixture(f"x/{name}")))
    def run(value: Any) -> None:
        _parses_or_payload_error(lambda: parse_account_activity(_body(value), _resolve, "app"))

    run()


def test_x_bytes_that_are_not_json() -> None:
    for raw in (b"", b"\xff\xfe", b"[" * 5000, b"nul\x00l"):
        _parses_or_payload_error(lambda raw=raw: parse_account_activity(raw, _resolve, None))


# -- Meta: Messenger, Instagram, Page feed -------------------------------------------

META_FIXTURES = [p.name for p in sorted((FIXTURES / "meta").glob("*.json"))]
META = MetaConnector("secret", "verify")


@PROPERTY
@given(value=json_values)
def test_meta_any_json(value: Any) -> None:
    _parses_or_payload_error(lambda: META.parse_webhook(_body(value), _resolve))


@pytest.mark.parametrize("name", META_FIXTURES)
def test_meta_mutated_fixtures(name: str) -> None:
    @PROPERTY
    @given(value=mutated(_fixture(f"meta/{name}")))
    def run(value: Any) -> None:
        _parses_or_payload_error(lambda: META.parse_webhook(_body(value), _resolve))

    run()


# -- Mastodon notifications (polled) --------------------------------------------------

MASTODON_NOTIFICATION = {
    "id": "901",
    "type": "mention",
    "created_at": "2026-05-01T10:00:00.000Z",
    "account": {"id": "77", "acct": "alice@example.social", "display_name": "Alice"},
    "status": {
        "id": "1100",
        "created_at": "2026-05-01T10:00:00.000Z",
        "content": "<p><span>@brand</span> my order never came</p>",
        "visibility": "public",
        "in_reply_to_id": "1099",
        "url": "https://example.social/@alice/1100",
        "spoiler_text": "",
        "language": "en",
        "account": {"id": "77", "acct": "alice", "followers_count": 12},
        "mentions": [{"id": "brand", "username": "brand", "acct": "brand"}],
    },
}
MASTODON = MastodonConnector("http://mastodon.invalid")


@PROPERTY
@given(value=json_values | mutated(MASTODON_NOTIFICATION))
def test_mastodon_notification(value: Any) -> None:
    if isinstance(value, dict):  # the poller hands over the objects of a JSON array
        _parses_or_payload_error(
            lambda: MASTODON.parse_notification(_account(Platform.MASTODON), value)
        )


# -- Bluesky notifications and chat log (polled) -------------------------------------

BLUESKY_NOTIFICATION = {
    "uri": "at://did:plc:alice/app.bsky.feed.post/3k",
    "cid": "bafy1",
    "reason": "reply",
    "indexedAt": "2026-05-01T10:00:00.000Z",
    "author": {"did": "did:plc:alice", "handle": "alice.bsky.social", "displayName": "A"},
    "record": {
        "$type": "app.bsky.feed.post",
        "text": "@brand.bsky.social where is my parcel",
        "createdAt": "2026-05-01T10:00:00.000Z",
        "reply": {
            "root": {"uri": "at://did:plc:brand/app.bsky.feed.post/1", "cid": "bafy0"},
            "parent": {"uri": "at://did:plc:brand/app.bsky.feed.post/2", "cid": "bafy2"},
        },
    },
}
BLUESKY_LOG = {
    "$type": LOG_CREATE_MESSAGE,
    "rev": "22",
    "convoId": "convo1",
    "message": {
        "id": "m1",
        "rev": "22",
        "text": "hello, my refund?",
        "sentAt": "2026-05-01T10:00:00.000Z",
        "sender": {"did": "did:plc:alice"},
    },
}


@PROPERTY
@given(value=json_values | mutated(BLUESKY_NOTIFICATION))
def test_bluesky_notification(value: Any) -> None:
    if isinstance(value, dict):
        _parses_or_payload_error(
            lambda: notification_message(
                _account(Platform.BLUESKY, "did:plc:brand"),
                value,
                own_dids={"did:plc:brand"},
                brand_handles={"brand.bsky.social"},
                remember_post=lambda *_: None,
            )
        )


@PROPERTY
@given(value=json_values | mutated(BLUESKY_LOG))
def test_bluesky_chat_log_entry(value: Any) -> None:
    if isinstance(value, dict):
        _parses_or_payload_error(
            lambda: parse_log_entry(_account(Platform.BLUESKY), value, {"did:plc:brand"})
        )


# -- the web form ---------------------------------------------------------------------

FORM = {"name": "Ann", "email": "ann@example.org", "subject": "Kettle", "message": "It leaks."}


@PROPERTY
@given(value=st.dictionaries(st.text(max_size=10), json_values) | mutated(FORM))
def test_web_form_fields(value: Any) -> None:
    if not isinstance(value, dict):
        return
    try:
        submission = validate(value)
    except FormError:
        return
    to_message(
        submission,
        _account(Platform.WEB),
        received_at=datetime.now(UTC),
        client_ip="127.0.0.1",
        raw_event_id=1,
    )


# -- through HTTP: signed bodies --------------------------------------------------------


@pytest.fixture
def hooks_url(db: Database) -> Iterator[str]:
    settings_ = Settings(x_consumer_secret="xs", meta_app_secret="ms", meta_verify_token="v")
    with serve(create_app(settings_, db)) as url:
        yield url


def test_signed_webhook_bodies_are_answered_2xx_or_4xx(hooks_url: str) -> None:
    with httpx.Client(base_url=hooks_url, timeout=30) as client:

        @settings(max_examples=25, derandomize=True, database=None, deadline=None)
        @given(value=json_values | mutated(_fixture("meta/messenger_messages.json")))
        def run(value: Any) -> None:
            body = _body(value)
            meta = client.post(
                "/hooks/meta",
                content=body,
                headers={META_SIGNATURE_HEADER: meta_signature("ms", body)},
            )
            x = client.post(
                "/hooks/x", content=body, headers={X_SIGNATURE_HEADER: x_signature("xs", body)}
            )
            assert meta.status_code < 500 and x.status_code < 500, (meta.text, x.text)

        run()
