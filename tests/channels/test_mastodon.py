"""The Mastodon connector against the local Mastodon emulator, over real HTTP on loopback.

The tests act as customers through the emulator's control API, then poll and reply as
the brand and check what the instance received.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from socialdesk.channels.base import (
    AccountRef,
    Connector,
    OutboundRequest,
    ReplyKind,
    SendError,
    SendFailure,
)
from socialdesk.channels.mastodon.connector import (
    MastodonConnector,
    html_to_text,
    id_key,
    parse_link_header,
    strip_leading_mentions,
    with_mention,
)
from socialdesk.channels.mastodon.emulator import create_mastodon_app
from socialdesk.domain.enums import Direction, Platform, Visibility
from socialdesk.loopback import serve_app as loopback

T = TypeVar("T")
TEXTS = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "mastodon" / "customer_texts.json").read_text()
)["texts"]
TOKEN = "brand-token"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Instance:
    """A running emulator plus a control client acting as the customers."""

    def __init__(self, base_url: str, app: Any) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=5)
        self.emulator = app.state.emulator
        brand = self.emulator.brand
        self.account = AccountRef(
            id=7,
            platform=Platform.MASTODON,
            external_id=brand.id,
            handle=brand.username,
            secrets={"access_token": TOKEN},
        )

    def mention(self, text: str, username: str = "alice", **extra: Any) -> dict[str, Any]:
        response = self.http.post(
            "/_emulator/customer/mention", json={"username": username, "text": text, **extra}
        )
        response.raise_for_status()
        return response.json()

    def control(self, path: str, body: dict[str, Any]) -> None:
        self.http.post(f"/_emulator/{path}", json=body).raise_for_status()

    def sent(self) -> list[dict[str, Any]]:
        return self.http.get("/_emulator/sent").json()

    def requests(self) -> list[dict[str, Any]]:
        return self.http.get("/_emulator/requests").json()

    def connector(self, **options: Any) -> MastodonConnector:
        return MastodonConnector(self.base_url, **options)


@pytest.fixture
def instance() -> Iterator[Instance]:
    app = create_mastodon_app(access_token=TOKEN)
    with loopback(app) as base_url:
        inst = Instance(base_url, app)
        yield inst
        inst.http.close()


async def poll(inst: Instance, cursor: str | None, **options: Any) -> Any:
    async with inst.connector(**options) as connector:
        return await connector.poll(inst.account, cursor)


async def send(inst: Instance, request: OutboundRequest) -> Any:
    async with inst.connector() as connector:
        return await connector.send(inst.account, request)


def reply(in_reply_to: str | None, body: str, key: str = "k-1", **extra: Any) -> OutboundRequest:
    kind = extra.pop("kind", ReplyKind.PUBLIC_REPLY)
    return OutboundRequest(
        kind=kind, body=body, idempotency_key=key, in_reply_to_id=in_reply_to, **extra
    )


# -- polling ---------------------------------------------------------------------------


def test_poll_normalizes_mentions_dms_and_replies(instance: Instance) -> None:
    first = instance.mention(TEXTS[0]["text"], display_name="Alice A.", followers_count=42)
    paragraphs = instance.mention(TEXTS[1]["text"], username="bob", domain="other.social")
    link = instance.mention(TEXTS[2]["text"])
    dm = instance.mention("where is my refund?", username="carol", visibility="direct")
    # A favourite is a notification too, but not a mention: the poller skips it.
    instance.control("customer/favourite", {"username": "dave", "status_id": first["status"]["id"]})

    result = run(poll(instance, None))

    bodies = [m.body for m in result.messages]
    assert bodies == [
        TEXTS[0]["text"],
        TEXTS[1]["text"],
        TEXTS[2]["text"],
        "where is my refund?",
    ]
    assert "&" in bodies[0] and "\n\n8:03am" in bodies[1] and "https://t.co/" in bodies[2]
    ids = [m.platform_message_id for m in result.messages]
    assert ids == [s["status"]["id"] for s in (first, paragraphs, link, dm)]
    assert result.cursor == dm["notification_id"]

    alice = result.messages[0]
    assert alice.platform is Platform.MASTODON and alice.channel_account_id == 7
    assert alice.direction is Direction.INBOUND and alice.visibility is Visibility.PUBLIC
    assert alice.author.handle == "alice" and alice.author.display_name == "Alice A."
    assert alice.author.follower_count == 42
    assert alice.author.external_user_id == first["status"]["account"]["id"]
    assert alice.created_at.tzinfo is not None and alice.conversation_id is None
    assert result.messages[1].author.handle == "bob@other.social"

    carol = result.messages[3]
    assert carol.visibility is Visibility.PRIVATE
    assert carol.conversation_id is not None
    assert carol.author.external_user_id in carol.conversation_id.split("-")
    assert instance.account.external_id in carol.conversation_id.split("-")


def test_reply_to_the_brand_keeps_parent_and_other_mentions(instance: Instance) -> None:
    opener = instance.mention("my parcel is late")
    brand_reply = run(send(instance, reply(opener["status"]["id"], "Sorry! Which order?")))
    instance.mention("hello", username="bob")  # bob exists, so he can be mentioned
    follow_up = instance.mention(
        "@acmehelp @bob it's order 1234", in_reply_to=brand_reply.platform_message_id
    )

    result = run(poll(instance, None))

    last = result.messages[-1]
    assert last.platform_message_id == follow_up["status"]["id"]
    assert last.reply_to_id == brand_reply.platform_message_id
    assert last.body == "@bob it's order 1234"


def test_min_id_paging_reads_bursts_larger_than_a_page_without_gaps(instance: Instance) -> None:
    start = run(poll(instance, None))
    assert start.messages == [] and start.cursor == "0"

    posted = [instance.mention(f"burst {i}")["status"]["id"] for i in range(95)]
    result = run(poll(instance, start.cursor, page_limit=40))

    assert [m.platform_message_id for m in result.messages] == posted
    assert len({m.platform_message_id for m in result.messages}) == 95
    calls = [r for r in instance.requests() if r["path"] == "/api/v1/notifications"]
    # 40 + 40 + 15, then the empty page that ends the walk; every call uses min_id.
    assert len(calls) == 1 + 4
    assert all("min_id=" in c["query"] and "since_id" not in c["query"] for c in calls[1:])

    later = [instance.mention(f"later {i}")["status"]["id"] for i in range(3)]
    again = run(poll(instance, result.cursor))
    assert [m.platform_message_id for m in again.messages] == later
    idle = run(poll(instance, again.cursor))
    assert idle.messages == [] and idle.cursor == again.cursor


def test_overlapping_polls_return_no_duplicates(instance: Instance) -> None:
    for i in range(6):
        instance.mention(f"message {i}")
    first = run(poll(instance, None))
    midpoint = first.messages[2].extra["notification_id"]
    assert isinstance(midpoint, str)

    overlap = run(poll(instance, midpoint, page_limit=2))
    assert [m.body for m in overlap.messages] == ["message 3", "message 4", "message 5"]
    assert overlap.cursor == first.cursor


def test_max_pages_stops_early_and_the_next_poll_continues(instance: Instance) -> None:
    posted = [instance.mention(f"m{i}")["status"]["id"] for i in range(10)]
    part = run(poll(instance, "0", page_limit=3, max_pages=2))
    assert [m.platform_message_id for m in part.messages] == posted[:6]
    rest = run(poll(instance, part.cursor, page_limit=3, max_pages=2))
    assert [m.platform_message_id for m in rest.messages] == posted[6:]


def test_snowflake_ids_compare_numerically() -> None:
    assert id_key("99") < id_key("100") < id_key("109876543210987654")
    assert max(["99", "100", "20"], key=id_key) == "100"


def test_html_to_text_and_mention_helpers() -> None:
    content = (
        '<p><span class="h-card"><a href="https://m.example/@acmehelp" class="u-url mention">'
        "@<span>acmehelp</span></a></span> it&#39;s broken<br />still &amp; again</p>"
        '<p>see <a href="https://example.com/a/very/long/path/that/is/cut"><span class="invisible">'
        'https://</span><span class="ellipsis">example.com/a/very/long/path/</span>'
        '<span class="invisible">that/is/cut</span></a></p>'
    )
    assert html_to_text(content) == (
        "@acmehelp it's broken\nstill & again\n\nsee https://example.com/a/very/long/path/that/is/cut"
    )
    names = {"acmehelp"}
    assert strip_leading_mentions("@acmehelp: hi there", names) == "hi there"
    assert strip_leading_mentions("@friend @AcmeHelp hi", names) == "@friend hi"
    assert strip_leading_mentions("hi @acmehelp", names) == "hi @acmehelp"
    assert strip_leading_mentions("@acmehelp", names) == "@acmehelp"
    assert with_mention("thanks @alice.", "alice") == "thanks @alice."
    assert with_mention("hi", "bob@other.social") == "@bob@other.social hi"
    assert with_mention("hi @bob", "bob@other.social") == "@bob@other.social hi @bob"
    links = parse_link_header(
        '<https://a/x?max_id=1>; rel="next", <https://a/x?min_id=9>; rel="prev"'
    )
    assert links == {"next": "https://a/x?max_id=1", "prev": "https://a/x?min_id=9"}


# -- sending ---------------------------------------------------------------------------


def test_public_reply_threads_and_mentions_the_customer(instance: Instance) -> None:
    opener = instance.mention("app crashes", username="bob", domain="other.social")
    result = run(send(instance, reply(opener["status"]["id"], "Which version?", key="key-a")))

    [sent] = instance.sent()
    assert sent["endpoint"] == "POST /api/v1/statuses"
    assert sent["idempotency_key"] == "key-a"
    assert sent["params"] == {
        "status": "@bob@other.social Which version?",
        "visibility": "public",
        "in_reply_to_id": opener["status"]["id"],
    }
    assert sent["status"]["id"] == result.platform_message_id
    assert sent["status"]["in_reply_to_id"] == opener["status"]["id"]
    assert [m["acct"] for m in sent["status"]["mentions"]] == ["bob@other.social"]
    assert result.sent_at is not None and result.sent_at.tzinfo is not None


def test_direct_message_mentions_the_recipient_once(instance: Instance) -> None:
    dm = instance.mention("my card was charged twice", username="carol", visibility="direct")
    [message] = run(poll(instance, None)).messages
    assert message.visibility is Visibility.PRIVATE

    request = reply(
        dm["status"]["id"],
        "We refunded it.",
        key="dm-1",
        kind=ReplyKind.DIRECT_MESSAGE,
        recipient_id=message.author.external_user_id,
        visibility=Visibility.PRIVATE,
    )
    result = run(send(instance, request))
    already = reply(
        None,
        "@carol one more thing",
        key="dm-2",
        kind=ReplyKind.DIRECT_MESSAGE,
        recipient_id="carol",
    )
    run(send(instance, already))

    first, second = instance.sent()
    assert first["params"]["visibility"] == "direct"
    assert first["params"]["status"] == "@carol We refunded it."
    assert [m["acct"] for m in first["status"]["mentions"]] == ["carol"]
    assert result.conversation_id == message.conversation_id
    assert second["params"]["status"] == "@carol one more thing"
    assert "in_reply_to_id" not in second["params"]


def test_retry_with_the_same_idempotency_key_posts_once(instance: Instance) -> None:
    opener = instance.mention("hello?")
    # The instance stores the status, then the answer is lost (503 on the way back).
    instance.control(
        "faults",
        {"status": 503, "after_commit": True, "method": "POST", "path": "/api/v1/statuses"},
    )
    request = reply(opener["status"]["id"], "Hi! How can we help?", key="retry-key")
    with pytest.raises(SendError) as failure:
        run(send(instance, request))
    assert failure.value.failure is SendFailure.RETRYABLE

    retried = run(send(instance, request))

    [sent] = instance.sent()
    assert sent["status"]["id"] == retried.platform_message_id
    assert [r["status"] for r in instance.requests() if r["method"] == "POST"] == [503, 200]
    # A different key is a different reply.
    run(send(instance, reply(opener["status"]["id"], "Hi! How can we help?", key="other")))
    assert len(instance.sent()) == 2


def test_idempotency_key_is_forgotten_after_an_hour(instance: Instance) -> None:
    opener = instance.mention("hello?")
    request = reply(opener["status"]["id"], "Hi!", key="hour-key")
    first = run(send(instance, request))
    instance.control("clock", {"advance_seconds": 3601})
    second = run(send(instance, request))
    assert first.platform_message_id != second.platform_message_id


def test_rate_limit_headers_and_429(instance: Instance) -> None:
    instance.control("rate_limit", {"limit": 2, "window_seconds": 300})

    async def scenario() -> tuple[Any, Any, SendError]:
        async with instance.connector() as connector:
            await connector.poll(instance.account, None)
            after_one = connector.rate_limit(instance.account)
            await connector.poll(instance.account, "0")
            with pytest.raises(SendError) as failure:
                await connector.poll(instance.account, "0")
            return after_one, connector.rate_limit(instance.account), failure.value

    after_one, after_429, error = run(scenario())
    assert after_one.limit == 2 and after_one.remaining is not None and after_one.remaining <= 1
    assert error.failure is SendFailure.RATE_LIMITED and error.reason == "Too many requests"
    assert error.retry_at is not None and error.retry_at.tzinfo is not None
    now = datetime.now(UTC)
    assert now < error.retry_at <= now + timedelta(seconds=301)
    assert int(error.retry_at.timestamp()) % 300 == 0  # the window's end, from ISO-8601
    assert after_429.remaining == 0 and after_429.reset_at == error.retry_at
    raw = [r for r in instance.requests() if r["status"] == 429]
    assert len(raw) == 1


def test_revoked_token_is_auth_revoked(instance: Instance) -> None:
    opener = instance.mention("hi")
    instance.control("tokens/revoke", {"token": TOKEN})
    for attempt in (poll(instance, None), send(instance, reply(opener["status"]["id"], "x"))):
        with pytest.raises(SendError) as failure:
            run(attempt)
        assert failure.value.failure is SendFailure.AUTH_REVOKED
        assert failure.value.reason == "The access token is invalid"


FORBIDDEN = {"status": 403, "error": "This action is not allowed", "method": "POST"}


@pytest.mark.parametrize(
    ("fault", "body", "expected", "reason"),
    [
        (None, "   ", SendFailure.PERMANENT, "Validation failed: Text can't be blank"),
        (None, "x" * 501, SendFailure.PERMANENT, "Text character limit of 500 exceeded"),
        ({"status": 503, "method": "POST"}, "ok", SendFailure.RETRYABLE, "Service Unavailable"),
        (FORBIDDEN, "ok", SendFailure.PERMANENT, "This action is not allowed"),
    ],
)
def test_send_errors_are_classified(
    instance: Instance,
    fault: dict[str, Any] | None,
    body: str,
    expected: SendFailure,
    reason: str,
) -> None:
    opener = instance.mention("hi", username="erin")
    request = reply(opener["status"]["id"], body, recipient_id="erin")
    if fault:
        instance.control("faults", fault)
    with pytest.raises(SendError) as failure:
        run(send(instance, request))
    assert failure.value.failure is expected
    assert reason in failure.value.reason
    assert instance.sent() == []


def test_reply_to_a_missing_status_is_permanent(instance: Instance) -> None:
    with pytest.raises(SendError) as failure:
        run(send(instance, reply("999", "hello", recipient_id="alice")))
    assert failure.value.failure is SendFailure.PERMANENT
    assert failure.value.reason == "Record not found" and failure.value.code == "404"


def test_instance_configuration_and_delete(instance: Instance) -> None:
    config = instance.http.get("/api/v2/instance").json()["configuration"]["statuses"]
    assert config["max_characters"] == 500 and config["characters_reserved_per_url"] == 23
    opener = instance.mention("hi")
    url = "https://example.com/" + "a" * 200
    result = run(send(instance, reply(opener["status"]["id"], f"see {url} " + "b" * 400)))

    async def delete() -> None:
        async with instance.connector() as connector:
            await connector.delete(instance.account, result.platform_message_id)

    run(delete())
    assert [s["endpoint"] for s in instance.sent()] == [
        "POST /api/v1/statuses",
        f"DELETE /api/v1/statuses/{result.platform_message_id}",
    ]


def test_implements_the_connector_protocol() -> None:
    connector: Connector = MastodonConnector("http://127.0.0.1:9")  # checked by mypy
    assert connector.platform is Platform.MASTODON
