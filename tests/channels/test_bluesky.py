"""The Bluesky connector against the local Bluesky emulator, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime
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
from socialdesk.channels.bluesky.connector import (
    EPOCH_CURSOR,
    BlueskyConnector,
    link_facets,
    strip_leading_handles,
)
from socialdesk.channels.bluesky.emulator import create_bluesky_app, grapheme_count
from socialdesk.domain.enums import Direction, Platform, Visibility
from socialdesk.loopback import serve_app as loopback

T = TypeVar("T")
TEXTS = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "bluesky" / "customer_texts.json").read_text()
)["texts"]
HANDLE = "acme.bsky.social"
PASSWORD = "abcd-efgh-ijkl-mnop"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Pds:
    """A running emulator plus a control client acting as the customers."""

    def __init__(self, base_url: str, app: Any) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=5)
        self.did = app.state.emulator.brand.did
        self.account = AccountRef(
            id=11,
            platform=Platform.BLUESKY,
            external_id=self.did,
            handle=HANDLE,
            secrets={"identifier": HANDLE, "app_password": PASSWORD},
        )
        self.sessions: list[tuple[int, str, str]] = []

    def connector(self, **options: Any) -> BlueskyConnector:
        def record(account_id: int, access: str, refresh: str) -> None:
            self.sessions.append((account_id, access, refresh))

        return BlueskyConnector(self.base_url, on_session=record, **options)

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(f"/_emulator/{path}", json=body or {})
        response.raise_for_status()
        return response.json()

    def mention(self, text: str, handle: str = "alice.bsky.social", **extra: Any) -> Any:
        return self.control("customer/mention", {"handle": handle, "text": text, **extra})

    def customer_reply(self, parent_uri: str, text: str, handle: str = "alice.bsky.social") -> Any:
        return self.control(
            "customer/reply", {"handle": handle, "text": text, "parent_uri": parent_uri}
        )

    def stats(self) -> dict[str, Any]:
        return self.http.get("/_emulator/stats").json()

    def sent(self) -> list[dict[str, Any]]:
        return self.http.get("/_emulator/sent").json()

    def calls(self, nsid: str) -> list[dict[str, Any]]:
        return [r for r in self.http.get("/_emulator/requests").json() if r["nsid"] == nsid]


@pytest.fixture
def pds() -> Iterator[Pds]:
    app = create_bluesky_app(brand_handle=HANDLE, app_password=PASSWORD)
    with loopback(app) as base_url:
        instance = Pds(base_url, app)
        yield instance
        instance.http.close()


def reply(parent: str, body: str, **extra: Any) -> OutboundRequest:
    return OutboundRequest(
        kind=ReplyKind.PUBLIC_REPLY,
        body=body,
        idempotency_key="k",
        in_reply_to_id=parent,
        **extra,
    )


# -- polling and threading -------------------------------------------------------------


def test_conversation_round_trip_with_one_login(pds: Pds) -> None:
    first = pds.mention(TEXTS[0]["text"], display_name="Alice")
    second = pds.mention(TEXTS[1]["text"], handle="bob.bsky.social")
    third = pds.mention(f"@{HANDLE}: {TEXTS[2]['text']}")

    async def scenario() -> tuple[Any, ...]:
        async with pds.connector() as connector:
            polled = await connector.poll(pds.account, None)
            answer = await connector.send(
                pds.account, reply(polled.messages[0].platform_message_id, "Sorry! Which device?")
            )
            follow_up = pds.customer_reply(answer.platform_message_id, "An Android tablet")
            pds.control(
                "customer/like", {"handle": "carol.bsky.social", "uri": answer.platform_message_id}
            )
            again = await connector.poll(pds.account, polled.cursor)
            second_answer = await connector.send(
                pds.account, reply(again.messages[0].platform_message_id, "Thanks, fixing it")
            )
            return polled, answer, follow_up, again, second_answer

    polled, answer, follow_up, again, second_answer = run(scenario())

    assert [m.platform_message_id for m in polled.messages] == [
        first["uri"],
        second["uri"],
        third["uri"],
    ]
    assert [m.body for m in polled.messages] == [t["text"] for t in TEXTS[:3]]
    alice = polled.messages[0]
    assert alice.platform is Platform.BLUESKY and alice.channel_account_id == 11
    assert alice.direction is Direction.INBOUND and alice.visibility is Visibility.PUBLIC
    assert alice.author.handle == "alice.bsky.social" and alice.author.display_name == "Alice"
    assert alice.author.external_user_id.startswith("did:plc:")
    assert alice.extra["cid"] == first["cid"] and alice.extra["reason"] == "mention"
    assert alice.extra["text"] == f"@{HANDLE} {TEXTS[0]['text']}"
    assert alice.reply_to_id is None and alice.references == ()
    assert alice.created_at.tzinfo is not None
    assert polled.cursor is not None and polled.cursor.endswith("|" + third["uri"])

    # The reply to a top-level post: root and parent are both that post.
    first_sent, second_sent = pds.sent()
    assert first_sent["endpoint"] == "com.atproto.repo.createRecord"
    assert first_sent["body"]["repo"] == pds.did
    assert first_sent["body"]["collection"] == "app.bsky.feed.post"
    record = first_sent["body"]["record"]
    assert record["$type"] == "app.bsky.feed.post" and record["text"] == "Sorry! Which device?"
    strong_ref = {"uri": first["uri"], "cid": first["cid"]}
    assert record["reply"] == {"root": strong_ref, "parent": strong_ref}
    assert datetime.fromisoformat(record["createdAt"]).tzinfo is not None
    assert answer.platform_message_id == first_sent["uri"]

    # The customer's answer came back as a reply; the like did not.
    [customer] = again.messages
    assert customer.platform_message_id == follow_up["uri"]
    assert customer.extra["reason"] == "reply" and customer.body == "An Android tablet"
    assert customer.reply_to_id == answer.platform_message_id
    assert customer.references == (first["uri"],)

    # Deeper in the thread the root stays the first post, the parent moves.
    assert second_sent["body"]["record"]["reply"] == {
        "root": strong_ref,
        "parent": {"uri": follow_up["uri"], "cid": follow_up["cid"]},
    }
    assert second_answer.platform_message_id == second_sent["uri"]

    stats = pds.stats()
    assert stats["createSession"] == 1 and stats["refreshSession"] == 0
    newest_indexed_at = again.cursor.split("|")[0] if again.cursor else None
    assert stats["updateSeen"] == [polled.cursor.split("|")[0], newest_indexed_at]
    assert len(pds.sessions) == 1 and pds.sessions[0][0] == 11


def test_pages_are_walked_back_to_the_cursor(pds: Pds) -> None:
    for i in range(5):
        pds.mention(f"early {i}")
    start = run(poll(pds, None))
    assert len(start.messages) == 5
    burst = [pds.mention(f"burst {i}")["uri"] for i in range(120)]

    result = run(poll(pds, start.cursor, page_limit=50))

    assert [m.platform_message_id for m in result.messages] == burst
    calls = pds.calls("app.bsky.notification.listNotifications")[1:]
    assert len(calls) == 3  # 50 + 50 + (20 new, then the cursor's post)
    assert all("reasons=mention&reasons=reply" in c["query"] for c in calls)
    assert "cursor=" not in calls[0]["query"] and "cursor=" in calls[2]["query"]

    idle = run(poll(pds, result.cursor))
    assert idle.messages == [] and idle.cursor == result.cursor
    # An overlapping poll from an older cursor returns each post once.
    overlap = run(poll(pds, start.cursor, page_limit=7))
    assert [m.platform_message_id for m in overlap.messages] == burst


def test_first_poll_reads_one_page_and_an_empty_one_starts_from_the_epoch(pds: Pds) -> None:
    empty = run(poll(pds, None))
    assert empty.messages == [] and empty.cursor == EPOCH_CURSOR
    posted = [pds.mention(f"m{i}")["uri"] for i in range(12)]
    everything = run(poll(pds, empty.cursor, page_limit=5))
    assert [m.platform_message_id for m in everything.messages] == posted
    newest_page = run(poll(pds, None, page_limit=5))
    assert [m.platform_message_id for m in newest_page.messages] == posted[-5:]


async def poll(pds: Pds, cursor: str | None, **options: Any) -> Any:
    async with pds.connector(**options) as connector:
        return await connector.poll(pds.account, cursor)


# -- sessions --------------------------------------------------------------------------


def test_expired_access_token_is_refreshed_once(pds: Pds) -> None:
    pds.mention("one")

    async def scenario() -> tuple[Any, Any]:
        async with pds.connector() as connector:
            before = await connector.poll(pds.account, None)
            pds.control("session/expire")
            pds.mention("two")
            pds.mention("three")
            # Two calls see the expired token at once; only one refresh happens.
            after, sent = await asyncio.gather(
                connector.poll(pds.account, before.cursor),
                connector.send(pds.account, reply(before.messages[0].platform_message_id, "hi")),
            )
            return after, sent

    after, sent = run(scenario())

    assert [m.body for m in after.messages] == ["two", "three"]
    assert sent.platform_message_id.startswith(f"at://{pds.did}/app.bsky.feed.post/")
    stats = pds.stats()
    assert stats["createSession"] == 1 and stats["refreshSession"] == 1
    (_, access_1, refresh_1), (_, access_2, refresh_2) = pds.sessions
    assert access_1 != access_2 and refresh_1 != refresh_2
    # Rotation: the first refresh token is dead now.
    reused = httpx.post(
        f"{pds.base_url}/xrpc/com.atproto.server.refreshSession",
        headers={"Authorization": f"Bearer {refresh_1}"},
        timeout=30,
    )
    assert reused.status_code == 400
    assert reused.json() == {"error": "ExpiredToken", "message": "Token has been revoked"}


def test_stored_tokens_are_reused_after_a_restart(pds: Pds) -> None:
    pds.mention("hello")
    run(poll(pds, None))
    _, access, refresh = pds.sessions[-1]
    restarted = AccountRef(
        id=11,
        platform=Platform.BLUESKY,
        external_id=pds.did,
        handle=HANDLE,
        secrets={"access_jwt": access, "refresh_jwt": refresh, "did": pds.did},
    )
    pds.control("session/expire")
    pds.mention("after restart")

    async def scenario() -> Any:
        async with pds.connector() as connector:
            return await connector.poll(restarted, EPOCH_CURSOR)

    result = run(scenario())
    assert [m.body for m in result.messages] == ["hello", "after restart"]
    assert pds.stats()["createSession"] == 1 and pds.stats()["refreshSession"] == 1


def test_revoked_refresh_token_is_auth_revoked(pds: Pds) -> None:
    pds.mention("hello")

    async def scenario() -> SendError:
        async with pds.connector() as connector:
            await connector.poll(pds.account, None)
            pds.control("session/expire")
            pds.control("session/revoke")
            with pytest.raises(SendError) as failure:
                await connector.poll(pds.account, None)
            return failure.value

    error = run(scenario())
    assert error.failure is SendFailure.AUTH_REVOKED and error.code == "ExpiredToken"
    assert pds.stats()["createSession"] == 1 and pds.stats()["refreshSession"] == 1


def test_wrong_app_password_is_auth_revoked(pds: Pds) -> None:
    account = AccountRef(
        id=12,
        platform=Platform.BLUESKY,
        external_id="",
        handle=HANDLE,
        secrets={"app_password": "wrong-pass-word-here"},
    )

    async def scenario() -> None:
        async with pds.connector() as connector:
            await connector.poll(account, None)

    with pytest.raises(SendError) as failure:
        run(scenario())
    assert failure.value.failure is SendFailure.AUTH_REVOKED
    assert failure.value.reason == "Invalid identifier or password"


def test_login_is_rate_limited_to_30_per_five_minutes(pds: Pds) -> None:
    body = {"identifier": HANDLE, "password": PASSWORD}
    codes = [
        pds.http.post("/xrpc/com.atproto.server.createSession", json=body).status_code
        for _ in range(31)
    ]
    assert codes == [200] * 30 + [429]


# -- limits and errors -----------------------------------------------------------------


def test_rate_limit_429_carries_the_reset(pds: Pds) -> None:
    pds.control("rate_limit", {"limit": 2, "window_seconds": 300})

    async def scenario() -> tuple[Any, SendError]:
        async with pds.connector() as connector:
            await connector.poll(pds.account, EPOCH_CURSOR)
            await connector.poll(pds.account, EPOCH_CURSOR)
            with pytest.raises(SendError) as failure:
                await connector.poll(pds.account, EPOCH_CURSOR)
            return connector.rate_limit(pds.account), failure.value

    state, error = run(scenario())
    assert error.failure is SendFailure.RATE_LIMITED and error.code == "RateLimitExceeded"
    assert error.retry_at is not None and int(error.retry_at.timestamp()) % 300 == 0
    assert 0 < (error.retry_at - datetime.now(UTC)).total_seconds() <= 300
    assert state.limit == 2 and state.remaining == 0 and state.reset_at == error.retry_at


def test_reply_to_an_unseen_post_fetches_its_thread(pds: Pds) -> None:
    top = pds.mention("top")
    middle = pds.customer_reply(top["uri"], "middle", handle="bob.bsky.social")
    # A fresh connector has not polled: it must look the parent up.
    run(send(pds, reply(middle["uri"], "answer")))
    [sent] = pds.sent()
    assert sent["body"]["record"]["reply"] == {
        "root": {"uri": top["uri"], "cid": top["cid"]},
        "parent": {"uri": middle["uri"], "cid": middle["cid"]},
    }
    assert len(pds.calls("app.bsky.feed.getPosts")) == 1


async def send(pds: Pds, request: OutboundRequest) -> Any:
    async with pds.connector() as connector:
        return await connector.send(pds.account, request)


def test_send_errors_are_classified(pds: Pds) -> None:
    top = pds.mention("top")
    accented = "e\u0301"  # one grapheme, two code points
    run(send(pds, reply(top["uri"], accented * 300)))
    with pytest.raises(SendError) as too_long:
        run(send(pds, reply(top["uri"], accented * 301)))
    assert too_long.value.failure is SendFailure.PERMANENT
    assert "300 graphemes" in too_long.value.reason and too_long.value.code == "InvalidRequest"

    pds.control("faults", {"status": 502, "nsid": "com.atproto.repo.createRecord"})
    with pytest.raises(SendError) as upstream:
        run(send(pds, reply(top["uri"], "ok")))
    assert upstream.value.failure is SendFailure.RETRYABLE

    with pytest.raises(SendError) as missing:
        run(send(pds, reply(f"at://{pds.did}/app.bsky.feed.post/3zzzzzzzzzzzz", "ok")))
    assert missing.value.failure is SendFailure.PERMANENT and missing.value.code == "RecordNotFound"

    dm = OutboundRequest(kind=ReplyKind.DIRECT_MESSAGE, body="hi", idempotency_key="d")
    with pytest.raises(SendError) as direct:
        run(send(pds, dm))
    assert direct.value.failure is SendFailure.PERMANENT
    assert len(pds.sent()) == 1


def test_emulator_validates_reply_refs(pds: Pds) -> None:
    async def login() -> str:
        async with pds.connector() as connector:
            return (await connector.session(pds.account)).access_jwt

    token = run(login())
    record = {
        "$type": "app.bsky.feed.post",
        "text": "x",
        "createdAt": "2025-01-01T00:00:00.000Z",
        "reply": {"parent": {"uri": "at://did:plc:x/app.bsky.feed.post/1", "cid": "bafy"}},
    }
    answer = pds.http.post(
        "/xrpc/com.atproto.repo.createRecord",
        headers={"Authorization": f"Bearer {token}"},
        json={"repo": pds.did, "collection": "app.bsky.feed.post", "record": record},
    )
    assert answer.status_code == 400 and answer.json()["error"] == "InvalidRequest"
    assert 'must have the property "root"' in answer.json()["message"]
    no_token = pds.http.get("/xrpc/app.bsky.notification.listNotifications")
    assert no_token.status_code == 401 and no_token.json()["error"] == "AuthMissing"


def test_text_helpers() -> None:
    assert grapheme_count("👍🏽🇫🇷👨‍👩‍👧") == 3
    assert strip_leading_handles(f"@{HANDLE} help", {HANDLE}) == "help"
    assert strip_leading_handles(f"@bob.example @{HANDLE}, help", {HANDLE}) == "@bob.example help"
    assert strip_leading_handles(f"thanks @{HANDLE}", {HANDLE}) == f"thanks @{HANDLE}"
    [facet] = link_facets("é see https://acme.example/x.")
    assert facet["index"] == {"byteStart": 7, "byteEnd": 29}  # "é" is two bytes
    assert facet["features"][0]["uri"] == "https://acme.example/x"


def test_implements_the_connector_protocol() -> None:
    connector: Connector = BlueskyConnector("http://127.0.0.1:9")  # checked by mypy
    assert connector.platform is Platform.BLUESKY
