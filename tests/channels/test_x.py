"""X connector: webhook parsing over fixtures, and everything else against the X
emulator served over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.channels.base import (
    AccountRef,
    OutboundRequest,
    PayloadError,
    ReplyKind,
    SendError,
    SendFailure,
    VerificationError,
)
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.channels.signatures import x_signature
from socialdesk.channels.x.connector import XConnector
from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.channels.x.polling import parse_poll_cursor, poll_cursor
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, Visibility
from socialdesk.emulators.server import RecordedRequest, WebhookRecorder, serve_app
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.polling import PollScheduler
from socialdesk.pipeline.raw_events import RawDelivery, store_raw_events
from socialdesk.pipeline.webhook_processing import process_pending
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, Message

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x"
SECRET = "x_consumer_secret_for_tests"
BRAND_ID = "3065618342"
BRAND = AccountRef(id=7, platform=Platform.X, external_id=BRAND_ID, handle="SpotifyCares")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def resolver(platform: Platform, external_id: str) -> AccountRef | None:
    assert platform is Platform.X
    return BRAND if external_id == BRAND_ID else None


# -- parsing ---------------------------------------------------------------------------


def test_mention_uses_id_str_and_extended_full_text() -> None:
    event = XConnector(SECRET).parse_webhook(fixture("tweet_create_mention.json"), resolver)
    [message] = event.messages
    assert message.platform_message_id == "918111834418593793"  # not the float-mangled id
    assert message.body.endswith("unless i close and reopen app")
    assert "…" not in message.body
    assert message.channel_account_id == BRAND.id
    assert message.author.external_user_id == "1101823847726501888"
    assert message.author.handle == "danak_listens"
    assert message.author.display_name == "Dana K."
    assert message.author.follower_count == 412
    assert message.created_at == datetime(2017, 10, 11, 12, 37, 46, tzinfo=UTC)
    assert message.visibility is Visibility.PUBLIC
    assert message.reply_to_id is None
    assert message.extra["mentions"] == ["SpotifyCares"]
    assert event.echoed_message_ids == []


def test_own_tweets_are_echoes_and_retweets_are_skipped() -> None:
    event = XConnector(SECRET).parse_webhook(fixture("tweet_create_reply_chain.json"), resolver)
    [message] = event.messages
    assert message.platform_message_id == "918133024147681281"
    assert message.reply_to_id == "918131216994107392"
    assert "at the mo & it was" in message.body  # HTML entities decoded
    assert event.echoed_message_ids == ["918133795727613952"]


def test_direct_messages_conversation_and_echo() -> None:
    connector = XConnector(SECRET)
    event = connector.parse_webhook(fixture("direct_message_events.json"), resolver)
    [dm] = event.messages
    assert dm.platform_message_id == "918140310291718148"
    assert dm.visibility is Visibility.PRIVATE
    # Lower id first, compared as numbers (a string sort would put 1101… first).
    assert dm.conversation_id == "3065618342-1101823847726501888"
    assert dm.author.handle == "danak_listens"
    assert dm.author.follower_count == 412
    assert dm.body.endswith("still skipping \U0001f629")
    assert dm.created_at == datetime(2017, 10, 11, 14, 30, 55, tzinfo=UTC)
    assert event.echoed_message_ids == ["918140822051295236"]


def test_dm_echo_is_recognised_by_source_app_id() -> None:
    payload = json.loads(fixture("direct_message_events.json"))
    # The echo seen from another subscribed account of ours: only the app id tells.
    payload["for_user_id"] = "1101823847726501888"
    body = json.dumps(payload).encode()

    def resolve(platform: Platform, external_id: str) -> AccountRef | None:
        return AccountRef(id=9, platform=platform, external_id=external_id, handle="other")

    without_app = XConnector(SECRET).parse_webhook(body, resolve)
    assert [m.platform_message_id for m in without_app.messages] == ["918140822051295236"]
    with_app = XConnector(SECRET, app_id="268278").parse_webhook(body, resolve)
    assert with_app.messages == []
    assert with_app.echoed_message_ids == ["918140310291718148", "918140822051295236"]


def test_revoke_reports_the_account() -> None:
    event = XConnector(SECRET).parse_webhook(fixture("user_event_revoke.json"), resolver)
    assert event.revoked_account_ids == [BRAND.id]
    assert event.messages == []


def test_like_follow_and_typing_are_ignored() -> None:
    event = XConnector(SECRET).parse_webhook(fixture("ignored_events.json"), resolver)
    assert event.messages == [] and event.echoed_message_ids == []


def test_unknown_account_yields_nothing() -> None:
    body = fixture("tweet_create_mention.json").replace(BRAND_ID.encode(), b"999")
    assert XConnector(SECRET).parse_webhook(body, resolver).messages == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"tweet_create_events": []}',
        b'{"for_user_id": 3065618342, "tweet_create_events": []}',
        b'{"for_user_id": "3065618342", "tweet_create_events": {}}',
        b'{"for_user_id": "3065618342", "tweet_create_events": ["x"]}',
        b'{"for_user_id": "3065618342", "tweet_create_events": [{"id_str": "1", "text": "hi",'
        b' "user": {"id_str": "5"}, "timestamp_ms": "99999999999999999999"}]}',
        b'{"for_user_id": "3065618342", "tweet_create_events": [{"text": "no id at all",'
        b' "user": {"id_str": "5"}, "timestamp_ms": "1509487847000"}]}',
        b'{"for_user_id": "3065618342", "direct_message_events": [{"type": "message_create",'
        b' "id": "1", "created_timestamp": "1", "message_create": {"sender_id": "5"}}]}',
        b"\xff\xfe",
    ],
)
def test_malformed_payloads_raise(body: bytes) -> None:
    with pytest.raises(PayloadError):
        XConnector(SECRET).parse_webhook(body, resolver)


def test_crc_and_signature_verification() -> None:
    connector = XConnector("test_consumer_secret")
    assert connector.crc_response("challenge_string") == {
        "response_token": "sha256=583uAmerwtjpykYEAEm+CEIRm6dOywK4QKRr0ha/Pd4="
    }
    with pytest.raises(VerificationError) as bad_token:
        connector.crc_response('{"for_user_id":"1"}' * 20)
    assert bad_token.value.status_code == 400
    body = b'{"for_user_id":"2244994945","tweet_create_events":[]}'
    good = {"X-Twitter-Webhooks-Signature": "sha256=Lss4bxd6weR99So6MmhnJFpNn8h7oFFhZH5um9Z5oF4="}
    connector.verify(good, body)
    with pytest.raises(VerificationError) as missing:
        connector.verify({}, body)
    assert missing.value.status_code == 401
    with pytest.raises(VerificationError) as forged:
        connector.verify(good, body + b" ")
    assert forged.value.status_code == 403
    with pytest.raises(VerificationError):
        XConnector(None).verify(good, body)


# -- against the emulator ---------------------------------------------------------------


@dataclass
class XWorld:
    url: str
    control: httpx.Client
    brand: AccountRef
    token: str

    def mention(self, text: str, username: str = "dana", **extra: Any) -> dict[str, Any]:
        spec = {"customer": {"username": username, "followers_count": 12}, "text": text}
        response = self.control.post("/_emulator/customer/mention", json=spec | extra)
        response.raise_for_status()
        return dict(response.json())

    def sent(self) -> list[dict[str, Any]]:
        return list(self.control.get("/_emulator/sent").json())

    def webhook(self, **settings: Any) -> None:
        self.control.put("/_emulator/webhook", json=settings).raise_for_status()

    def connector(self, **kwargs: Any) -> XConnector:
        return XConnector(SECRET, base_url=self.url, app_id="4000001", **kwargs)


@pytest.fixture
def world() -> Iterator[XWorld]:
    app = create_x_emulator(SECRET, retry_delay_seconds=0.01, echo="off")
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as control:
        brand = control.post(
            "/_emulator/users", json={"id": BRAND_ID, "username": "SpotifyCares"}
        ).json()
        token = control.post("/_emulator/tokens", json={"user_id": brand["id"]}).json()
        account = AccountRef(
            id=7,
            platform=Platform.X,
            external_id=brand["id"],
            handle="SpotifyCares",
            secrets={"access_token": token["access_token"]},
        )
        yield XWorld(url, control, account, token["access_token"])


def reply(to: str, text: str = "@dana Sorry about that! Which version are you on?") -> Any:
    return OutboundRequest(
        kind=ReplyKind.PUBLIC_REPLY, body=text, idempotency_key="k1", in_reply_to_id=to
    )


@pytest.mark.anyio
async def test_public_reply_reaches_the_emulator(world: XWorld) -> None:
    tweet = world.mention("Spotify Premium skipping through songs constantly")["tweet"]
    async with world.connector() as x:
        result = await x.send(world.brand, reply(tweet["id_str"]))
    [sent] = world.sent()
    assert sent["endpoint"] == "POST /2/tweets"
    assert sent["id"] == result.platform_message_id
    assert sent["body"] == {
        "text": "@dana Sorry about that! Which version are you on?",
        "reply": {"in_reply_to_tweet_id": tweet["id_str"]},
    }
    assert result.sent_at is not None


@pytest.mark.anyio
async def test_rate_limit_429_carries_the_reset(world: XWorld) -> None:
    world.control.put("/_emulator/config", json={"rate_limits": {"POST /2/tweets": 1}})
    tweet = world.mention("first")["tweet"]
    async with world.connector() as x:
        await x.send(world.brand, reply(tweet["id_str"], "@dana one"))
        state = x.rate_limit(world.brand)
        assert (state.limit, state.remaining) == (1, 0)
        with pytest.raises(SendError) as caught:
            await x.send(world.brand, reply(tweet["id_str"], "@dana two"))
    assert caught.value.failure is SendFailure.RATE_LIMITED
    assert caught.value.retry_at == state.reset_at
    assert caught.value.retry_at is not None and caught.value.retry_at > datetime.now(UTC)
    assert len(world.sent()) == 1


@pytest.mark.anyio
async def test_expired_token_is_auth_revoked(world: XWorld) -> None:
    tweet = world.mention("hello")["tweet"]
    world.control.post("/_emulator/clock", json={"advance_seconds": 7201})
    async with world.connector() as x:
        with pytest.raises(SendError) as caught:
            await x.send(world.brand, reply(tweet["id_str"]))
        assert caught.value.failure is SendFailure.AUTH_REVOKED
        assert caught.value.code == "401"
        with pytest.raises(SendError) as polled:
            await x.poll(world.brand, None)
        assert polled.value.failure is SendFailure.AUTH_REVOKED


@pytest.mark.anyio
async def test_revoked_token_on_demand(world: XWorld) -> None:
    world.control.post("/_emulator/tokens/expire", json={"access_token": world.token})
    async with world.connector() as x:
        with pytest.raises(SendError) as caught:
            await x.poll(world.brand, None)
    assert caught.value.failure is SendFailure.AUTH_REVOKED


@pytest.mark.anyio
async def test_duplicate_403_then_find_recent_post(world: XWorld) -> None:
    tweet = world.mention("my playlist vanished")["tweet"]
    text = "@dana Let's fix that: https://support.example.com/article/123 &amp; more"
    async with world.connector() as x:
        first = await x.send(world.brand, reply(tweet["id_str"], text))
        with pytest.raises(SendError) as caught:
            await x.send(world.brand, reply(tweet["id_str"], text))
        assert caught.value.failure is SendFailure.DUPLICATE
        assert caught.value.code == "403"
        found = await x.find_recent_post(world.brand, text, in_reply_to=tweet["id_str"])
        assert found == first.platform_message_id
        assert await x.find_recent_post(world.brand, text, in_reply_to="1") is None
        assert await x.find_recent_post(world.brand, "something else") is None


@pytest.mark.anyio
async def test_server_errors_retryable_client_errors_permanent(world: XWorld) -> None:
    tweet = world.mention("hello")["tweet"]
    world.control.post("/_emulator/faults", json={"status": 503, "count": 1})
    async with world.connector() as x:
        with pytest.raises(SendError) as server_error:
            await x.send(world.brand, reply(tweet["id_str"]))
        assert server_error.value.failure is SendFailure.RETRYABLE
        with pytest.raises(SendError) as gone:
            await x.send(world.brand, reply("1234567890"))
        assert gone.value.failure is SendFailure.PERMANENT
        assert "deleted or not visible" in gone.value.reason
        with pytest.raises(SendError) as too_long:
            await x.send(world.brand, reply(tweet["id_str"], "\u4e2d" * 141))
        assert too_long.value.failure is SendFailure.PERMANENT
        ok = await x.send(world.brand, reply(tweet["id_str"], "\u4e2d" * 140))
    assert ok.platform_message_id


@pytest.mark.anyio
async def test_network_error_is_retryable() -> None:
    async with XConnector(SECRET, base_url="http://127.0.0.1:9") as x:
        account = AccountRef(1, Platform.X, "1", "a", secrets={"access_token": "t"})
        with pytest.raises(SendError) as caught:
            await x.send(account, reply("5"))
    assert caught.value.failure is SendFailure.RETRYABLE


@pytest.mark.anyio
async def test_injected_transport_and_24_hour_limit() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        headers = {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "57",
            "x-rate-limit-reset": "1747663306",
            "x-user-limit-24hour-limit": "17",
            "x-user-limit-24hour-remaining": "0",
            "x-user-limit-24hour-reset": "1747700000",
        }
        body = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
        return httpx.Response(429, json=body, headers=headers)

    account = AccountRef(1, Platform.X, "42", "a", secrets={"access_token": "user-token"})
    transport = httpx.MockTransport(answer)
    async with XConnector(SECRET, base_url="https://api.x.example", transport=transport) as x:
        with pytest.raises(SendError) as caught:
            await x.send(account, reply("5"))
    assert caught.value.failure is SendFailure.RATE_LIMITED
    # The 24-hour counter is spent, so its reset wins over the 15-minute window's.
    assert caught.value.retry_at == datetime.fromtimestamp(1747700000, tz=UTC)
    assert seen[0].url == "https://api.x.example/2/tweets"
    assert seen[0].headers["authorization"] == "Bearer user-token"
    assert "user-token" not in str(caught.value)
    assert x.rate_limit(account, "POST /2/tweets").remaining == 57


@pytest.mark.anyio
async def test_direct_message_by_recipient_and_by_conversation(world: XWorld) -> None:
    dm = world.control.post(
        "/_emulator/customer/dm", json={"customer": {"username": "dana"}, "text": "help"}
    ).json()["event"]
    customer_id = dm["message_create"]["sender_id"]
    async with world.connector() as x:
        first = await x.send(
            world.brand,
            OutboundRequest(
                kind=ReplyKind.DIRECT_MESSAGE,
                body="Hi!",
                idempotency_key="a",
                recipient_id=customer_id,
            ),
        )
        conversation = first.conversation_id
        second = await x.send(
            world.brand,
            OutboundRequest(
                kind=ReplyKind.DIRECT_MESSAGE,
                body="Still there?",
                idempotency_key="b",
                conversation_id=conversation,
            ),
        )
    assert conversation == "-".join(sorted([BRAND_ID, customer_id], key=lambda i: (len(i), i)))
    sent = world.sent()
    assert [s["endpoint"] for s in sent] == [
        "POST /2/dm_conversations/with/:participant_id/messages"
    ] * 2
    assert sent[1]["path"] == f"/2/dm_conversations/with/{customer_id}/messages"
    assert sent[1]["body"] == {"text": "Still there?"}
    assert second.platform_message_id == sent[1]["id"]


@pytest.mark.anyio
async def test_poll_mentions_pages_and_advances_the_cursor(world: XWorld) -> None:
    ids = [world.mention(f"problem number {n}")["tweet"]["id_str"] for n in range(12)]
    async with world.connector(poll_page_size=5) as x:
        first = await x.poll(world.brand, None)
        assert [m.platform_message_id for m in first.messages] == ids  # oldest first
        assert first.cursor == ids[-1]
        assert first.messages[0].author.handle == "dana"
        assert first.messages[0].author.follower_count == 12
        assert first.messages[0].body == "@SpotifyCares problem number 0"
        assert first.messages[0].extra["source"] == "poll"
        newer = [world.mention(f"follow-up {n}", username="sam")["tweet"]["id_str"] for n in (1, 2)]
        second = await x.poll(world.brand, first.cursor)
        assert [m.platform_message_id for m in second.messages] == newer
        assert second.cursor == newer[-1]
        third = await x.poll(world.brand, second.cursor)
        assert third.messages == [] and third.cursor == second.cursor
    mention_calls = x.rate_limit(world.brand, "GET /2/users/:id/mentions")
    assert mention_calls.limit == 300 and mention_calls.remaining == 300 - 5


@pytest.mark.anyio
async def test_poll_overlap_rereads_recent_mentions(world: XWorld) -> None:
    ids = [world.mention(f"n{n}")["tweet"]["id_str"] for n in range(3)]
    async with world.connector(poll_overlap_seconds=60) as x:
        again = await x.poll(world.brand, ids[-1])
    assert [m.platform_message_id for m in again.messages] == ids
    assert again.cursor == ids[-1]


@pytest.mark.anyio
async def test_poll_sees_replies_to_the_brand(world: XWorld) -> None:
    tweet = world.mention("app crashes")["tweet"]
    async with world.connector() as x:
        sent = await x.send(world.brand, reply(tweet["id_str"]))
        follow = world.mention("still crashing", in_reply_to_tweet_id=sent.platform_message_id)
        result = await x.poll(world.brand, tweet["id_str"])
    [message] = result.messages
    assert message.platform_message_id == follow["tweet"]["id_str"]
    assert message.reply_to_id == sent.platform_message_id


# -- webhooks from the emulator ------------------------------------------------------------


@pytest.fixture
def receiver(world: XWorld) -> Iterator[tuple[WebhookRecorder, XConnector]]:
    connector = world.connector()

    def handle(request: RecordedRequest) -> tuple[int, str, bytes] | None:
        if request.method == "GET":
            body = json.dumps(connector.crc_response(request.query.get("crc_token", "")))
            return 200, "application/json", body.encode()
        try:
            connector.verify(request.headers, request.body)
        except VerificationError as exc:
            return exc.status_code, "text/plain", exc.reason.encode()
        return None

    recorder = WebhookRecorder(handler=handle)
    with serve_app(recorder) as url:
        world.webhook(url=url + "/hooks/x")
        yield recorder, connector


def parse(connector: XConnector, request: RecordedRequest, brand: AccountRef) -> Any:
    def resolve(platform: Platform, external_id: str) -> AccountRef | None:
        return brand if external_id == brand.external_id else None

    return connector.parse_webhook(request.body, resolve)


def test_customer_mention_arrives_as_signed_webhook(
    world: XWorld, receiver: tuple[WebhookRecorder, XConnector]
) -> None:
    recorder, connector = receiver
    text = "Spotify Premium skipping through songs constantly on android tablet & speaker " * 2
    result = world.mention(text.strip())
    assert [a["status"] for a in result["deliveries"]] == [200]
    [request] = recorder.posts()
    assert request.path == "/hooks/x"
    connector.verify(request.headers, request.body)  # the handler accepted it too
    payload = json.loads(request.body)
    tweet = payload["tweet_create_events"][0]
    assert tweet["truncated"] is True and "extended_tweet" in tweet
    assert datetime.strptime(tweet["created_at"], "%a %b %d %H:%M:%S %z %Y")
    assert tweet["entities"]["user_mentions"][0]["screen_name"] == "SpotifyCares"
    [message] = parse(connector, request, world.brand).messages
    assert message.platform_message_id == result["tweet"]["id_str"]
    assert message.body == "@SpotifyCares " + text.strip()
    assert message.author.follower_count == 12


def test_webhook_retries_until_the_receiver_answers_200(
    world: XWorld, receiver: tuple[WebhookRecorder, XConnector]
) -> None:
    recorder, _ = receiver
    recorder.statuses.extend([500, 503])
    result = world.mention("retry me")
    assert [a["status"] for a in result["deliveries"]] == [500, 503, 200]
    bodies = {r.body for r in recorder.posts()}
    assert len(recorder.posts()) == 3 and len(bodies) == 1


def test_webhook_gives_up_after_three_retries(
    world: XWorld, receiver: tuple[WebhookRecorder, XConnector]
) -> None:
    recorder, _ = receiver
    recorder.statuses.extend([500] * 10)
    result = world.mention("nobody home")
    assert [a["attempt"] for a in result["deliveries"]] == [1, 2, 3, 4]
    assert len(recorder.posts()) == 4


def test_receiver_refuses_forged_deliveries(
    world: XWorld, receiver: tuple[WebhookRecorder, XConnector]
) -> None:
    recorder, _ = receiver
    body = b'{"for_user_id":"3065618342","tweet_create_events":[]}'
    url = world.control.put("/_emulator/webhook", json={}).json()["url"]
    forged = httpx.post(
        url, content=body, headers={"x-twitter-webhooks-signature": "sha256=AAAA"}, timeout=30
    )
    assert forged.status_code == 403
    genuine = httpx.post(
        url,
        content=body,
        headers={"x-twitter-webhooks-signature": x_signature(SECRET, body)},
        timeout=30,
    )
    assert genuine.status_code == 200
    assert [r.headers["x-twitter-webhooks-signature"] for r in recorder.posts()] == [
        "sha256=AAAA",
        x_signature(SECRET, body),
    ]


def test_duplicate_and_reordered_deliveries(
    world: XWorld, receiver: tuple[WebhookRecorder, XConnector]
) -> None:
    recorder, connector = receiver
    world.webhook(duplicate_deliveries=1)
    world.mention("twice")
    first, second = recorder.wait_for_posts(2)
    assert first.body == second.body
    world.webhook(duplicate_deliveries=0, hold=True)
    ids = [world.mention(f"ordered {n}")["tweet"]["id_str"] for n in range(3)]
    assert len(recorder.posts()) == 2  # held
    world.control.post("/_emulator/webhook/flush", json={"order": "reverse"})
    late = recorder.posts()[2:]
    got = [parse(connector, r, world.brand).messages[0].platform_message_id for r in late]
    assert got == list(reversed(ids))


@pytest.mark.anyio
async def test_own_sends_are_echoed_to_the_webhook(
    world: XWorld, receiver: tuple[WebhookRecorder, XConnector]
) -> None:
    recorder, connector = receiver
    tweet = world.mention("echo test")["tweet"]
    world.control.put("/_emulator/config", json={"echo": "before"})
    async with world.connector() as x:
        result = await x.send(world.brand, reply(tweet["id_str"]))
        # "before": the echo reached the webhook before the API call returned.
        echo = recorder.posts()[-1]
        event = parse(connector, echo, world.brand)
        assert event.messages == []
        assert event.echoed_message_ids == [result.platform_message_id]
        world.control.put("/_emulator/config", json={"echo": "after"})
        dm = await x.send(
            world.brand,
            OutboundRequest(
                kind=ReplyKind.DIRECT_MESSAGE,
                body="Check your DMs",
                idempotency_key="dm",
                recipient_id=tweet["user"]["id_str"],
            ),
        )
    dm_echo = recorder.wait_for_posts(3)[-1]
    event = parse(connector, dm_echo, world.brand)
    assert event.echoed_message_ids == [dm.platform_message_id]
    assert (
        json.loads(dm_echo.body)["direct_message_events"][0]["message_create"]["source_app_id"]
        == "4000001"
    )


def test_customer_dm_webhook(world: XWorld, receiver: tuple[WebhookRecorder, XConnector]) -> None:
    recorder, connector = receiver
    result = world.control.post(
        "/_emulator/customer/dm",
        json={"customer": {"username": "grégoire", "name": "Grégoire"}, "text": "Grüße 👋"},
    ).json()
    [request] = recorder.posts()
    [message] = parse(connector, request, world.brand).messages
    assert message.platform_message_id == result["event"]["id"]
    assert message.body == "Grüße 👋"
    assert message.author.display_name == "Grégoire"
    assert message.conversation_id and BRAND_ID in message.conversation_id.split("-")


def test_crc_check_against_the_receiver(
    world: XWorld, receiver: tuple[WebhookRecorder, XConnector]
) -> None:
    recorder, _ = receiver
    assert world.control.post("/_emulator/webhook/crc").json() == {"valid": True, "status": 200}
    [crc] = [r for r in recorder.requests if r.method == "GET"]
    assert "crc_token" in crc.query and "nonce" in crc.query


def test_crc_check_fails_with_the_wrong_secret(world: XWorld) -> None:
    wrong = XConnector("not-the-secret")

    def handle(request: RecordedRequest) -> tuple[int, str, bytes]:
        body = json.dumps(wrong.crc_response(request.query["crc_token"]))
        return 200, "application/json", body.encode()

    with serve_app(WebhookRecorder(handler=handle)) as url:
        world.webhook(url=url)
        assert world.control.post("/_emulator/webhook/crc").json()["valid"] is False


# -- emulator fidelity -------------------------------------------------------------------------


def test_emulator_api_shapes(world: XWorld) -> None:
    auth = {"Authorization": f"Bearer {world.token}"}
    api = httpx.Client(base_url=world.url, headers=auth)
    tweet = world.mention("shape check")["tweet"]
    unknown = api.post("/2/tweets", json={"text": "hi", "reply_to": tweet["id_str"]})
    assert unknown.status_code == 400
    assert unknown.json()["type"].endswith("/2/problems/invalid-request")
    assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(
        unknown.headers
    )
    created = api.post("/2/tweets", json={"text": "standalone"})
    assert created.status_code == 201
    data = created.json()["data"]
    assert data["edit_history_tweet_ids"] == [data["id"]]
    assert "x-user-limit-24hour-remaining" in created.headers
    assert api.get(f"/2/users/{BRAND_ID}/mentions", params={"max_results": 2}).status_code == 400
    empty = api.get(f"/2/users/{BRAND_ID}/mentions", params={"since_id": tweet["id_str"]})
    assert empty.json() == {"meta": {"result_count": 0}}
    listed = api.get(
        f"/2/users/{BRAND_ID}/mentions",
        params={"post.fields": "created_at,author_id", "expansions": "author_id"},
    ).json()
    assert listed["data"][0]["created_at"].endswith("Z")
    assert listed["includes"]["users"][0]["username"] == "dana"
    assert api.delete(f"/2/tweets/{data['id']}").json() == {"data": {"deleted": True}}
    assert api.delete(f"/2/tweets/{tweet['id_str']}").status_code == 403
    unauthorized = httpx.get(f"{world.url}/2/users/{BRAND_ID}/mentions", timeout=30)
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }


# -- DM polling (fallback without webhooks) ----------------------------------------------


def customer_dm(world: XWorld, text: str, username: str = "dana") -> dict[str, Any]:
    spec = {"customer": {"username": username, "name": username.title()}, "text": text}
    response = world.control.post("/_emulator/customer/dm", json=spec)
    response.raise_for_status()
    return dict(response.json())


@pytest.mark.anyio
async def test_poll_dms_pages_and_matches_the_webhook(world: XWorld) -> None:
    brand = replace(world.brand, settings={"poll_dms": True})
    sent = [customer_dm(world, f"card charged twice ({n})") for n in range(7)]
    ids = [s["event"]["id"] for s in sent]
    async with world.connector(poll_page_size=5) as x:
        customer_id = sent[0]["event"]["message_create"]["sender_id"]
        answer = OutboundRequest(ReplyKind.DIRECT_MESSAGE, "On it!", "k", recipient_id=customer_id)
        await x.send(brand, answer)
        first = await x.poll(brand, None)
        assert [m.platform_message_id for m in first.messages] == ids  # ours left out
        mentions_cursor, dms_cursor = parse_poll_cursor(first.cursor)
        assert mentions_cursor is None and dms_cursor is not None
        # The webhook's message for the same DM is the same message.
        webhook = x.parse_webhook(sent[0]["deliveries"][0]["body"].encode(), resolver)
        [hooked] = webhook.messages
        polled = first.messages[0]
        for attr in ("platform_message_id", "conversation_id", "body", "visibility"):
            assert getattr(polled, attr) == getattr(hooked, attr)
        assert polled.author.external_user_id == hooked.author.external_user_id
        assert polled.author.handle == hooked.author.handle == "dana"
        assert polled.created_at == hooked.created_at
        assert polled.extra["source"] == "poll"

        later = customer_dm(world, "hello again", username="sam")
        second = await x.poll(brand, first.cursor)
        assert [m.platform_message_id for m in second.messages] == [later["event"]["id"]]
        third = await x.poll(brand, second.cursor)
        assert third.messages == [] and third.cursor == second.cursor
    calls = x.rate_limit(brand, "GET /2/dm_events")
    # 2 pages + (1 page reaching the cursor) + 1 = 4 of the 15 allowed.
    assert calls.limit == 15 and calls.remaining == 15 - 4


@pytest.mark.anyio
async def test_poll_dms_waits_out_the_15_minute_window(world: XWorld) -> None:
    world.control.put("/_emulator/config", json={"rate_limits": {"GET /2/dm_events": 1}})
    brand = replace(world.brand, settings={"poll_dms": True})
    customer_dm(world, "first")
    async with world.connector() as x:
        first = await x.poll(brand, None)
        assert len(first.messages) == 1
        mention = world.mention("public question")["tweet"]["id_str"]
        customer_dm(world, "second")
        # The DM window is spent: mentions still arrive, the DM cursor stays.
        second = await x.poll(brand, first.cursor)
        assert [m.platform_message_id for m in second.messages] == [mention]
        assert parse_poll_cursor(second.cursor) == (mention, parse_poll_cursor(first.cursor)[1])
        assert x.rate_limit(brand, "GET /2/dm_events").remaining == 0


def test_poll_cursor_round_trip() -> None:
    assert parse_poll_cursor(None) == (None, None)
    assert parse_poll_cursor("1234") == ("1234", None)  # stored before DMs were polled
    assert parse_poll_cursor(poll_cursor("12", "34")) == ("12", "34")
    assert parse_poll_cursor(poll_cursor(None, "34")) == (None, "34")
    assert parse_poll_cursor("{broken") == (None, None)


def test_dm_seen_by_webhook_and_by_the_poll_scheduler_is_one_message(
    db: Database, world: XWorld
) -> None:
    with db.write() as s:
        ws = ensure_workspace(s)
        account_id = create_channel_account(
            s,
            None,
            workspace_id=ws.id,
            platform=Platform.X,
            handle="SpotifyCares",
            external_id=BRAND_ID,
            secrets={"access_token": world.token},
            settings={"poll": True, "poll_dms": True, "poll_interval_seconds": 0},
        ).id
    registry = ConnectorRegistry(Settings(x_consumer_secret=SECRET, x_api_base_url=world.url))
    pipeline = Pipeline()
    scheduler = PollScheduler(db, pipeline, registry)
    parsers = {"hooks:x": XConnector(SECRET).parse_webhook}

    def webhook(delivery: dict[str, Any]) -> None:
        with db.write() as s:
            store_raw_events(
                s.connection(), [RawDelivery("hooks:x", delivery["deliveries"][0]["body"])]
            )
        assert process_pending(db, pipeline, parsers).failed == 0

    def stored() -> list[tuple[str | None, int, str | None]]:
        with db.session() as s:
            return [
                (m.platform_message_id, m.ticket_id, m.conversation_id)
                for m in s.scalars(select(Message).order_by(Message.id))
            ]

    async def scenario() -> None:
        first = customer_dm(world, "my card was charged twice")
        webhook(first)  # the webhook path stores it …
        [outcome] = await scheduler.run_once()
        assert (outcome.fetched, outcome.stored, outcome.error) == (1, 0, None)  # … and polling
        second = customer_dm(world, "any news?")
        [outcome] = await scheduler.run_once()  # polling first this time
        assert (outcome.fetched, outcome.stored) == (1, 1)
        webhook(second)
        rows = stored()
        assert [r[0] for r in rows] == [first["event"]["id"], second["event"]["id"]]
        assert len({r[1] for r in rows}) == 1  # one ticket: the DM conversation
        with db.session() as s:
            account = s.get(ChannelAccount, account_id)
            assert account is not None
            assert parse_poll_cursor(account.poll_cursor)[1] == second["event"]["id"]
        await registry.aclose()

    asyncio.run(scenario())
