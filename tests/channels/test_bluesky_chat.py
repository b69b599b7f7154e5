"""Bluesky direct messages: the connector's chat half against the emulator's chat
service, over real HTTP on loopback; plus the pure pieces (cursor, log entries, length)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest

from socialdesk.channels.base import (
    AccountRef,
    OutboundRequest,
    ReplyKind,
    SendError,
    SendFailure,
)
from socialdesk.channels.bluesky.chat import (
    CHAT_PROXY,
    join_cursor,
    parse_log_entry,
    split_cursor,
)
from socialdesk.channels.bluesky.connector import EPOCH_CURSOR, BlueskyConnector
from socialdesk.channels.bluesky.emulator import create_bluesky_app
from socialdesk.channels.bluesky.emulator_chat import ChatState
from socialdesk.domain.enums import Direction, Platform, Visibility
from socialdesk.domain.length_rules import check_length
from socialdesk.loopback import serve_app as loopback

T = TypeVar("T")
HANDLE = "acme.bsky.social"
PASSWORD = "abcd-efgh-ijkl-mnop"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 1 grapheme, 25 bytes


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Pds:
    def __init__(self, base_url: str, app: Any) -> None:
        self.base_url = base_url
        self.emulator = app.state.emulator
        self.http = httpx.Client(base_url=base_url, timeout=5)
        self.did = self.emulator.brand.did
        self.account = AccountRef(
            id=21,
            platform=Platform.BLUESKY,
            external_id=self.did,
            handle=HANDLE,
            secrets={"identifier": HANDLE, "app_password": PASSWORD},
        )

    def connector(self) -> BlueskyConnector:
        return BlueskyConnector(self.base_url)

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(f"/_emulator/{path}", json=body or {})
        response.raise_for_status()
        return response.json()

    def dm(self, text: str, handle: str = "dana.bsky.social", **extra: Any) -> Any:
        return self.control("customer/dm", {"handle": handle, "text": text, **extra})

    def calls(self, nsid: str) -> list[dict[str, Any]]:
        return [r for r in self.http.get("/_emulator/requests").json() if r["nsid"] == nsid]

    def dm_sends(self) -> list[dict[str, Any]]:
        sent = self.http.get("/_emulator/sent").json()
        return [s for s in sent if s["endpoint"] == "chat.bsky.convo.sendMessage"]


@pytest.fixture
def pds() -> Iterator[Pds]:
    app = create_bluesky_app(
        brand_handle=HANDLE, app_password=PASSWORD, chat=ChatState(page_size=3)
    )
    with loopback(app) as base_url:
        instance = Pds(base_url, app)
        yield instance
        instance.http.close()


def dm(body: str, **fields: Any) -> OutboundRequest:
    return OutboundRequest(
        kind=ReplyKind.DIRECT_MESSAGE,
        body=body,
        idempotency_key="k",
        visibility=Visibility.PRIVATE,
        **fields,
    )


async def poll(pds: Pds, cursor: str | None, account: AccountRef | None = None) -> Any:
    async with pds.connector() as connector:
        return await connector.poll(account or pds.account, cursor)


async def send(pds: Pds, request: OutboundRequest) -> Any:
    async with pds.connector() as connector:
        return await connector.send(pds.account, request)


# -- polling and replying --------------------------------------------------------------


def test_dm_round_trip_in_the_customers_convo(pds: Pds) -> None:
    first = pds.dm("Hi, my order #5512 never arrived", display_name="Dana")
    other = pds.dm("Is the shop open on Sunday?", handle="eli.bsky.social")
    second = pds.dm("It was due on Monday")

    async def scenario() -> tuple[Any, Any, Any]:
        async with pds.connector() as connector:
            polled = await connector.poll(pds.account, None)
            answer = await connector.send(
                pds.account,
                dm(
                    "Sorry Dana! Tracking: https://acme.example/t/5512",
                    conversation_id=polled.messages[0].conversation_id,
                    in_reply_to_id=polled.messages[-1].platform_message_id,
                ),
            )
            pds.dm("Thanks, it says delivered to the neighbour")
            again = await connector.poll(pds.account, polled.cursor)
            return polled, answer, again

    polled, answer, again = run(scenario())

    assert [m.platform_message_id for m in polled.messages] == [
        first["message_id"],
        other["message_id"],
        second["message_id"],
    ]
    dana = polled.messages[0]
    assert dana.visibility is Visibility.PRIVATE and dana.direction is Direction.INBOUND
    assert dana.conversation_id == first["convo_id"] == second["convo_id"]
    assert polled.messages[1].conversation_id == other["convo_id"] != first["convo_id"]
    assert dana.author.external_user_id.startswith("did:plc:")
    # The handle and name come from getConvo (a log entry carries only the DID), once per
    # convo.
    assert dana.author.handle == "dana.bsky.social" and dana.author.display_name == "Dana"
    assert len(pds.calls("chat.bsky.convo.getConvo")) == 2
    assert dana.body == "Hi, my order #5512 never arrived" and dana.created_at.tzinfo is UTC
    # Notifications had nothing: the cursor is the epoch one plus the chat rev.
    assert polled.cursor == join_cursor(EPOCH_CURSOR, second["rev"])

    [sent] = pds.dm_sends()
    assert sent["convo_id"] == first["convo_id"]
    assert sent["body"]["message"]["text"].startswith("Sorry Dana!")
    [facet] = sent["body"]["message"]["facets"]
    assert facet["features"][0]["uri"] == "https://acme.example/t/5512"
    assert answer.platform_message_id == sent["message_id"]
    assert answer.conversation_id == first["convo_id"]
    assert answer.sent_at is not None and answer.sent_at.tzinfo is not None

    # Our own message came back through the log; only the customer's answer is new.
    assert [m.body for m in again.messages] == ["Thanks, it says delivered to the neighbour"]
    assert len(pds.calls("chat.bsky.convo.getConvo")) == 2
    # Every chat call named the chat service.
    assert all(r["status"] == 200 for r in pds.calls("chat.bsky.convo.getLog"))


def test_log_is_paged_forward_and_a_replayed_cursor_returns_the_same_messages(pds: Pds) -> None:
    start = run(poll(pds, None))
    assert start.messages == [] and start.cursor == EPOCH_CURSOR  # nothing in the log yet
    sent = [pds.dm(f"message {i}")["message_id"] for i in range(7)]

    result = run(poll(pds, start.cursor))

    assert [m.platform_message_id for m in result.messages] == sent
    calls = pds.calls("chat.bsky.convo.getLog")[1:]
    # 8 entries (the convo's begin + 7 messages) in pages of 3, then an empty page.
    assert len(calls) == 4
    assert "cursor=" not in calls[0]["query"] and all("cursor=" in c["query"] for c in calls[1:])
    idle = run(poll(pds, result.cursor))
    assert idle.messages == [] and idle.cursor == result.cursor
    # A crash before the cursor was stored: the same cursor reads the same messages again
    # (the pipeline drops them by id).
    replay = run(poll(pds, start.cursor))
    assert [m.platform_message_id for m in replay.messages] == sent
    assert replay.cursor == result.cursor


def test_first_poll_skips_dms_older_than_a_day(pds: Pds) -> None:
    pds.control("clock", {"advance_seconds": -3 * 86400})
    pds.dm("an old question from last week")
    pds.control("clock", {"advance_seconds": 3 * 86400})
    recent = pds.dm("a new question")
    result = run(poll(pds, None))
    assert [m.platform_message_id for m in result.messages] == [recent["message_id"]]
    # Once the account has a chat cursor, nothing is filtered by age.
    pds.control("clock", {"advance_seconds": -3 * 86400})
    late = pds.dm("delivered late")
    pds.control("clock", {"advance_seconds": 3 * 86400})
    assert [m.platform_message_id for m in run(poll(pds, result.cursor)).messages] == [
        late["message_id"]
    ]


def test_mentions_and_dms_share_one_poll_and_cursor(pds: Pds) -> None:
    mention = pds.control("customer/mention", {"handle": "dana.bsky.social", "text": "help"})
    message = pds.dm("details in private")
    result = run(poll(pds, None))
    assert [m.platform_message_id for m in result.messages] == [
        mention["uri"],
        message["message_id"],
    ]
    assert [m.visibility for m in result.messages] == [Visibility.PUBLIC, Visibility.PRIVATE]
    # Same person on both surfaces: the pipeline puts them on one contact.
    assert result.messages[0].author.external_user_id == result.messages[1].author.external_user_id
    notifications, rev = split_cursor(result.cursor)
    assert notifications is not None and notifications.endswith("|" + mention["uri"])
    assert rev == message["rev"]


def test_opening_a_convo_for_a_public_customer(pds: Pds) -> None:
    mention = pds.control("customer/mention", {"handle": "fay.bsky.social", "text": "broken"})
    customer = mention["uri"].split("/")[2]
    result = run(send(pds, dm("Could you DM us your order number?", recipient_id=customer)))
    [convo] = pds.http.get("/_emulator/convos").json()
    assert sorted(convo["members"]) == sorted([customer, pds.did])
    assert result.conversation_id == convo["id"]
    assert [m["text"] for m in convo["messages"]] == ["Could you DM us your order number?"]
    assert len(pds.calls("chat.bsky.convo.getConvoForMembers")) == 1
    # The customer's answer is in that same convo.
    answer = pds.dm("It's 7781", handle="fay.bsky.social")
    assert answer["convo_id"] == convo["id"]

    async def opened_twice() -> str:
        async with pds.connector() as connector:
            return await connector.open_conversation(pds.account, customer)

    assert run(opened_twice()) == convo["id"]


# -- sessions, limits and errors ------------------------------------------------------


def test_expired_token_on_the_chat_endpoints_is_refreshed_once(pds: Pds) -> None:
    pds.dm("first")

    async def scenario() -> tuple[Any, Any]:
        async with pds.connector() as connector:
            before = await connector.poll(pds.account, None)
            pds.control("session/expire")
            pds.dm("second")
            after = await connector.poll(pds.account, before.cursor)
            pds.control("session/expire")
            pds.dm("third")
            # The chat log alone (no notification call first to refresh the token).
            dms, _ = await connector.chat.poll(
                pds.account, split_cursor(after.cursor)[1], {pds.did}
            )
            assert [m.body for m in dms] == ["third"]
            pds.control("session/expire")
            sent = await connector.send(
                pds.account, dm("hello", conversation_id=before.messages[0].conversation_id)
            )
            return after, sent

    after, sent = run(scenario())
    assert [m.body for m in after.messages] == ["second"]
    assert sent.platform_message_id == pds.dm_sends()[0]["message_id"]
    stats = pds.http.get("/_emulator/stats").json()
    assert stats["createSession"] == 1 and stats["refreshSession"] == 3
    expired = [c for c in pds.calls("chat.bsky.convo.sendMessage") if c["status"] == 400]
    assert len(expired) == 1
    expired = [c for c in pds.calls("chat.bsky.convo.getLog") if c["status"] == 400]
    assert len(expired) == 1


def test_the_chat_service_needs_the_proxy_header(pds: Pds) -> None:
    async def login() -> str:
        async with pds.connector() as connector:
            return (await connector.session(pds.account)).access_jwt

    token = run(login())
    auth = {"Authorization": f"Bearer {token}"}
    missing = pds.http.get("/xrpc/chat.bsky.convo.getLog", headers=auth)
    assert missing.status_code == 400 and missing.json()["error"] == "InvalidRequest"
    assert CHAT_PROXY in missing.json()["message"]
    wrong = pds.http.get(
        "/xrpc/chat.bsky.convo.getLog",
        headers={**auth, "atproto-proxy": "did:web:api.bsky.app#bsky_appview"},
    )
    assert wrong.status_code == 400
    good = pds.http.get(
        "/xrpc/chat.bsky.convo.getLog", headers={**auth, "atproto-proxy": CHAT_PROXY}
    )
    assert good.status_code == 200 and good.json() == {"logs": []}
    assert good.headers["ratelimit-limit"] == "3000"
    no_token = pds.http.get("/xrpc/chat.bsky.convo.getLog", headers={"atproto-proxy": CHAT_PROXY})
    assert no_token.status_code == 401 and no_token.json()["error"] == "AuthMissing"


def test_dm_send_errors_are_classified_by_error_name(pds: Pds) -> None:
    first = pds.dm("hello")
    convo = first["convo_id"]

    with pytest.raises(SendError) as too_long:
        run(send(pds, dm("a" * 1001, conversation_id=convo)))
    assert too_long.value.failure is SendFailure.PERMANENT
    assert "1001 of 1000 graphemes" in too_long.value.reason
    assert pds.calls("chat.bsky.convo.sendMessage") == []  # refused before the network
    run(send(pds, dm("e\u0301" * 1000, conversation_id=convo)))  # 1000 graphemes fit

    pds.control("faults", {"status": 502, "nsid": "chat.bsky.convo.sendMessage"})
    with pytest.raises(SendError) as upstream:
        run(send(pds, dm("ok", conversation_id=convo)))
    assert upstream.value.failure is SendFailure.RETRYABLE

    pds.control("customer/dm_settings", {"handle": "dana.bsky.social", "allow_incoming": "none"})
    with pytest.raises(SendError) as closed:
        run(send(pds, dm("ok", conversation_id=convo)))
    assert closed.value.failure is SendFailure.PERMANENT
    assert closed.value.code == "MessagesDisabled"
    assert "does not accept direct messages" in closed.value.reason

    with pytest.raises(SendError) as unknown:
        run(send(pds, dm("ok", conversation_id="3nosuchconvo22")))
    assert unknown.value.failure is SendFailure.PERMANENT and unknown.value.code == "InvalidConvo"

    public = OutboundRequest(
        kind=ReplyKind.PUBLIC_REPLY,
        body="ok",
        idempotency_key="p",
        in_reply_to_id=first["message_id"],
        conversation_id=convo,
    )
    with pytest.raises(SendError) as not_a_post:
        run(send(pds, public))
    assert not_a_post.value.failure is SendFailure.PERMANENT
    assert "reply privately" in not_a_post.value.reason

    with pytest.raises(SendError) as nowhere:
        run(send(pds, dm("ok")))
    assert nowhere.value.failure is SendFailure.PERMANENT and "recipient" in nowhere.value.reason
    assert len(pds.dm_sends()) == 1


def test_chat_rate_limit_429_carries_the_reset(pds: Pds) -> None:
    pds.control("rate_limit", {"limit": 1, "window_seconds": 300, "service": "chat"})
    pds.dm("hi")

    async def scenario() -> tuple[Any, SendError]:
        async with pds.connector() as connector:
            with pytest.raises(SendError) as failure:
                # The first getLog page fits the window of one; the next page does not.
                await connector.poll(pds.account, EPOCH_CURSOR)
            return connector.rate_limit(pds.account), failure.value

    state, error = run(scenario())
    assert error.failure is SendFailure.RATE_LIMITED and error.code == "RateLimitExceeded"
    assert error.retry_at is not None
    assert 0 < (error.retry_at - datetime.now(UTC)).total_seconds() <= 300
    assert state.remaining == 0
    # The PDS's own window is separate: notifications still work.
    assert pds.calls("app.bsky.notification.listNotifications")[0]["status"] == 200


def test_app_password_without_dm_access(pds: Pds) -> None:
    pds.emulator.dm_access = False
    with pytest.raises(SendError) as failure:
        run(poll(pds, None))
    assert failure.value.failure is SendFailure.AUTH_REVOKED
    assert "does not allow direct messages" in failure.value.reason
    # The account can opt out of DMs and keep its mentions.
    pds.control("customer/mention", {"handle": "gus.bsky.social", "text": "hello"})
    opted_out = AccountRef(
        id=21,
        platform=Platform.BLUESKY,
        external_id=pds.did,
        handle=HANDLE,
        secrets=pds.account.secrets,
        settings={"direct_messages": False},
    )
    result = run(poll(pds, "x|y dm:3abc", opted_out))
    assert [m.body for m in result.messages] == ["hello"]
    assert split_cursor(result.cursor)[1] == "3abc"  # the chat position is kept
    assert len(pds.calls("chat.bsky.convo.getLog")) == 1


# -- pure pieces -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "notifications", "rev"),
    [
        (None, None, None),
        ("", None, None),
        # Stored before DMs were read: a bare notification cursor.
        (
            "2026-01-01T00:00:00.000Z|at://did:plc:a/app.bsky.feed.post/3k",
            "2026-01-01T00:00:00.000Z|at://did:plc:a/app.bsky.feed.post/3k",
            None,
        ),
        ("2026-01-01T00:00:00.000Z|at://x dm:3lrev", "2026-01-01T00:00:00.000Z|at://x", "3lrev"),
        (" dm:3lrev", None, "3lrev"),
    ],
)
def test_cursor_round_trip(stored: str | None, notifications: str | None, rev: str | None) -> None:
    assert split_cursor(stored) == (notifications, rev)
    if stored:
        assert join_cursor(notifications, rev) == stored


def _entry(**overrides: Any) -> dict[str, Any]:
    message = {
        "$type": "chat.bsky.convo.defs#messageView",
        "id": "3m1",
        "rev": "3r1",
        "text": "hi",
        "sender": {"did": "did:plc:customer"},
        "sentAt": "2026-03-01T10:00:00.000Z",
    }
    entry = {
        "$type": "chat.bsky.convo.defs#logCreateMessage",
        "rev": "3r1",
        "convoId": "3c1",
        "message": message,
    }
    for key, value in overrides.items():
        if key.startswith("message_"):
            message[key.removeprefix("message_")] = value
        else:
            entry[key] = value
    return entry


@pytest.mark.parametrize(
    ("entry", "kept"),
    [
        (_entry(), True),
        (_entry(**{"$type": "chat.bsky.convo.defs#logBeginConvo"}), False),
        (_entry(**{"$type": "chat.bsky.convo.defs#logDeleteMessage"}), False),
        (_entry(**{"message_$type": "chat.bsky.convo.defs#deletedMessageView"}), False),
        (_entry(message_sender={"did": "did:plc:brand"}), False),  # our own: an echo
        (_entry(message_text=None), False),
        (_entry(convoId=None), False),
    ],
)
def test_log_entries_to_messages(entry: dict[str, Any], kept: bool) -> None:
    account = AccountRef(21, Platform.BLUESKY, "did:plc:brand", HANDLE)
    message = parse_log_entry(account, entry, {"did:plc:brand"})
    assert (message is not None) is kept
    if message is not None:
        assert message.platform_message_id == "3m1" and message.conversation_id == "3c1"
        assert message.created_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
        assert message.author.external_user_id == "did:plc:customer"


@pytest.mark.parametrize(
    ("text", "fits", "shown", "unit"),
    [
        ("a" * 1000, True, 1000, "graphemes"),
        ("a" * 1001, False, 1001, "graphemes"),
        ("e\u0301" * 1000, True, 1000, "graphemes"),  # 2000 code points
        (FAMILY * 400, True, 400, "graphemes"),  # 10,000 bytes exactly
        (FAMILY * 401, False, 10_025, "UTF-8 bytes"),  # 401 graphemes, over the byte cap
        ("\u00e9" * 1000, True, 1000, "graphemes"),
    ],
)
def test_dm_length_rule(text: str, fits: bool, shown: int, unit: str) -> None:
    check = check_length(text, Platform.BLUESKY, visibility=Visibility.PRIVATE)
    assert (check.fits, check.length, check.unit) == (fits, shown, unit)
    # Public posts stay at 300 graphemes.
    assert not check_length("a" * 301, Platform.BLUESKY).fits
