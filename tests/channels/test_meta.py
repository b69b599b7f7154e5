"""Meta connector: webhook parsing over fixtures, and sends, errors and webhooks against
the Meta emulator served over real HTTP on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialdesk.channels.base import (
    AccountRef,
    OutboundRequest,
    PayloadError,
    ReplyKind,
    SendError,
    SendFailure,
    VerificationError,
)
from socialdesk.channels.meta.connector import MetaConnector, classify_error
from socialdesk.channels.meta.emulator import create_meta_emulator
from socialdesk.channels.signatures import appsecret_proof, meta_signature
from socialdesk.domain.attachments import Attachment, AttachmentKind
from socialdesk.domain.enums import Platform, Visibility
from socialdesk.domain.messages import MessageChange
from socialdesk.emulators.server import RecordedRequest, WebhookRecorder, serve_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
SECRET = "meta_app_secret_for_tests"
VERIFY = "verify-token-for-tests"
PAGE_ID = "104525631234567"
IG_ID = "17841405309211844"
PAGE = AccountRef(id=11, platform=Platform.FACEBOOK, external_id=PAGE_ID, handle="Acme Mobile")
IG = AccountRef(id=12, platform=Platform.INSTAGRAM, external_id=IG_ID, handle="acme_help")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def resolver(*accounts: AccountRef) -> Any:
    def resolve(platform: Platform, external_id: str) -> AccountRef | None:
        return next(
            (a for a in accounts if a.platform is platform and a.external_id == external_id),
            None,
        )

    return resolve


# -- parsing ---------------------------------------------------------------------------


def test_page_feed_comments() -> None:
    event = MetaConnector(SECRET).parse_webhook(
        fixture("page_feed_comments.json"), resolver(PAGE, IG)
    )
    top, reply, edited, removed = event.messages
    assert top.platform is Platform.FACEBOOK and top.channel_account_id == PAGE.id
    assert top.platform_message_id == "122154321098765_987654321012345"
    assert top.author.external_user_id == "6912345678901234"
    assert top.author.display_name == "Grégoire Dupont"
    assert top.body.endswith("battery life out \U0001f629")
    assert top.reply_to_id == "104525631234567_122154321098765"  # the post
    assert top.references == ()
    assert top.created_at == datetime(2025, 5, 19, 14, 1, 46, tzinfo=UTC)
    assert top.visibility is Visibility.PUBLIC
    assert reply.reply_to_id == "122154321098765_987654321012345"  # the parent comment
    assert reply.references == ("104525631234567_122154321098765",)
    assert edited.platform_message_id == top.platform_message_id
    assert edited.extra["verb"] == "edited"
    assert edited.change is MessageChange.EDITED and top.change is None
    assert edited.changed_at is not None
    assert removed.change is MessageChange.REMOVED
    # The Page's own comment is an echo; the reaction is ignored.
    assert event.echoed_message_ids == ["122154321098765_987654321055555"]


def test_messenger_messages() -> None:
    # Only a Facebook account is connected: Messenger events still find it.
    event = MetaConnector(SECRET).parse_webhook(fixture("messenger_messages.json"), resolver(PAGE))
    first, answer, image = event.messages
    assert first.platform is Platform.MESSENGER and first.channel_account_id == PAGE.id
    assert first.platform_message_id.startswith("m_AG5Hz2Uq7")
    assert first.conversation_id == f"{PAGE_ID}:24681357924681357"
    assert first.author.external_user_id == "24681357924681357"
    assert first.visibility is Visibility.PRIVATE
    assert first.created_at == datetime(2025, 5, 19, 14, 1, 45, 987000, tzinfo=UTC)
    assert "haven\u2019t received" in first.body
    assert answer.reply_to_id == event.echoed_message_ids[0]
    assert event.echoed_message_ids == [
        "m_Echo7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwl"
    ]
    assert image.body == ""
    assert image.attachments == (
        Attachment(AttachmentKind.IMAGE, platform_url="https://scontent.example/screenshot.png"),
    )


def test_instagram_comments_and_dms() -> None:
    connector = MetaConnector(SECRET)
    comments = connector.parse_webhook(fixture("instagram_comments.json"), resolver(PAGE, IG))
    top, reply = comments.messages
    assert top.platform is Platform.INSTAGRAM and top.channel_account_id == IG.id
    assert top.platform_message_id == "17865799348089039"
    assert top.author.handle == "tesco_shopper"
    assert top.reply_to_id == "18023345678901234"
    assert reply.reply_to_id == "17865799348089039"
    assert reply.references == ("18023345678901234",)
    assert reply.extra["ad_id"] == "23851234567890123"
    assert comments.echoed_message_ids == ["17865799348089040"]
    dms = connector.parse_webhook(fixture("instagram_messages.json"), resolver(IG))
    [dm] = dms.messages
    assert dm.platform is Platform.INSTAGRAM
    assert dm.conversation_id == f"{IG_ID}:1133557799113355"
    assert dm.body == "My order never arrived \U0001f61e"
    assert len(dms.echoed_message_ids) == 1 and dms.echoed_message_ids[0].endswith("Echo")


def test_every_entry_is_routed_by_its_id() -> None:
    other = AccountRef(id=99, platform=Platform.FACEBOOK, external_id="555", handle="Other")
    payload = json.loads(fixture("messenger_messages.json"))
    first = json.loads(json.dumps(payload["entry"][0]))
    for_other = json.loads(json.dumps(first).replace(PAGE_ID, "555"))
    for_unknown = json.loads(json.dumps(first).replace(PAGE_ID, "777"))
    body = json.dumps({"object": "page", "entry": [first, for_other, for_unknown]}).encode()
    event = MetaConnector(SECRET).parse_webhook(body, resolver(PAGE, other))
    assert [m.channel_account_id for m in event.messages] == [PAGE.id, other.id]
    assert event.messages[1].conversation_id == "555:24681357924681357"


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b'{"entry": []}',
        b'{"object": "page"}',
        b'{"object": "page", "entry": {}}',
        b'{"object": "page", "entry": [{"time": 1}]}',
        b'{"object": "page", "entry": [{"id": "1", "messaging": [{"recipient": {"id": "1"},'
        b' "message": {"mid": "m.1", "text": "no sender"}}]}]}',
        b'{"object": "page", "entry": [{"id": "104525631234567", "time": 1e30, "changes":'
        b' [{"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id": "9",'
        b' "from": {"id": "2"}}}]}]}',
        b'{"object": "page", "entry": [{"id": "1", "changes": [{"field": "feed", "value":'
        b' {"item": "comment", "verb": "add", "from": {"id": "2"}}}]}]}',
        b'{"object": "page", "entry": [{"id": "1", "changes": "feed"}]}',
    ],
)
def test_malformed_payloads_raise(body: bytes) -> None:
    with pytest.raises(PayloadError):
        MetaConnector(SECRET).parse_webhook(body, resolver(PAGE))


def test_other_objects_are_ignored() -> None:
    body = b'{"object": "permissions", "entry": [{"id": "1", "changes": []}]}'
    assert MetaConnector(SECRET).parse_webhook(body, resolver(PAGE)).messages == []


def test_hub_challenge() -> None:
    connector = MetaConnector(SECRET, VERIFY)
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": VERIFY}
    assert connector.hub_challenge(params) == "1158201444"
    php = {"hub_mode": "subscribe", "hub_challenge": "42", "hub_verify_token": VERIFY}
    assert connector.hub_challenge(php) == "42"
    assert MetaConnector(SECRET).hub_challenge(params, VERIFY) == "1158201444"
    for bad in (
        params | {"hub.verify_token": "nope"},
        params | {"hub.mode": "unsubscribe"},
        params | {"hub.challenge": "<script>alert(1)</script> x"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
    ):
        with pytest.raises(VerificationError) as caught:
            connector.hub_challenge(bad)
        assert caught.value.status_code == 403
    with pytest.raises(VerificationError):
        MetaConnector(SECRET).hub_challenge(params | {"hub.verify_token": ""})


def test_verify_signature() -> None:
    connector = MetaConnector("test_app_secret")
    body = b'{"object":"page","entry":[]}'
    sig = "sha256=5da47c9c7409e70d7a1851f0cfd9bc27786bd99587a9bf1dd5b51e23a2de03cf"
    connector.verify({"X-Hub-Signature-256": sig}, body)
    with pytest.raises(VerificationError) as missing:
        connector.verify({"X-Hub-Signature": "sha1=abc"}, body)
    assert missing.value.status_code == 401
    with pytest.raises(VerificationError) as forged:
        connector.verify({"x-hub-signature-256": sig}, body.replace(b"[]", b"[ ]"))
    assert forged.value.status_code == 403


@pytest.mark.parametrize(
    ("code", "subcode", "failure"),
    [
        (190, 460, SendFailure.AUTH_REVOKED),
        (190, 463, SendFailure.AUTH_REVOKED),
        (190, None, SendFailure.AUTH_REVOKED),
        (102, None, SendFailure.AUTH_REVOKED),
        (200, None, SendFailure.AUTH_REVOKED),
        (230, None, SendFailure.AUTH_REVOKED),
        (4, None, SendFailure.RATE_LIMITED),
        (17, None, SendFailure.RATE_LIMITED),
        (32, None, SendFailure.RATE_LIMITED),
        (613, None, SendFailure.RATE_LIMITED),
        (10, 2018278, SendFailure.OUTSIDE_WINDOW),
        (10, None, SendFailure.PERMANENT),
        (1, None, SendFailure.RETRYABLE),
        (2, None, SendFailure.RETRYABLE),
        (100, None, SendFailure.PERMANENT),
        (551, 1545041, SendFailure.PERMANENT),
        (368, None, SendFailure.PERMANENT),
        (10900, None, SendFailure.PERMANENT),
    ],
)
def test_error_classification_by_code(code: int, subcode: int | None, failure: str) -> None:
    # The message text is deliberately misleading: only code and subcode count.
    error: dict[str, Any] = {"message": "Session has expired", "type": "OAuthException"}
    error |= {"code": code, "fbtrace_id": "Ab"}
    if subcode is not None:
        error["error_subcode"] = subcode
    result = classify_error(400, {"error": error})
    assert result.failure == failure
    assert result.code == (f"{code}/{subcode}" if subcode else str(code))


@pytest.mark.anyio
async def test_injected_transport_rate_limit_uses_usage_headers() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        usage = {"type": "pages", "call_count": 100, "total_cputime": 40, "total_time": 40}
        usage["estimated_time_to_regain_access"] = 30
        error: dict[str, Any] = {"message": "(#32) Page limit", "type": "OAuthException"}
        error |= {"code": 32, "fbtrace_id": "Az"}
        return httpx.Response(
            400,
            json={"error": error},
            headers={"x-business-use-case-usage": json.dumps({PAGE_ID: [usage]})},
        )

    page = AccountRef(1, Platform.FACEBOOK, PAGE_ID, "p", secrets={"access_token": "EAAtok"})
    transport = httpx.MockTransport(answer)
    async with MetaConnector(SECRET, base_url="https://graph.example", transport=transport) as m:
        before = datetime.now(UTC)
        with pytest.raises(SendError) as caught:
            await m.send(page, comment_reply("1_2"))
        state = m.rate_limit(page)
    assert caught.value.failure is SendFailure.RATE_LIMITED
    assert caught.value.retry_at is not None
    assert 29 * 60 <= (caught.value.retry_at - before).total_seconds() <= 31 * 60
    assert (state.limit, state.remaining) == (100, 0)
    request = seen[0]
    assert request.url.path == "/v21.0/1_2/comments"
    assert request.url.params["appsecret_proof"] == appsecret_proof(SECRET, "EAAtok")
    assert "access_token" not in request.url.params  # the token travels in a header
    assert request.headers["authorization"] == "Bearer EAAtok"


def test_error_without_a_code() -> None:
    assert classify_error(502, None).failure is SendFailure.RETRYABLE
    assert classify_error(404, {"oops": 1}).failure is SendFailure.PERMANENT


# -- against the emulator ---------------------------------------------------------------


@dataclass
class MetaWorld:
    url: str
    control: httpx.Client
    page: AccountRef
    ig: AccountRef

    def post(self, path: str, **body: Any) -> dict[str, Any]:
        response = self.control.post(path, json=body)
        response.raise_for_status()
        return dict(response.json())

    def sent(self) -> list[dict[str, Any]]:
        return list(self.control.get("/_emulator/sent").json())

    def connector(self, app_secret: str = SECRET) -> MetaConnector:
        return MetaConnector(app_secret, VERIFY, base_url=self.url)


@pytest.fixture
def world() -> Iterator[MetaWorld]:
    app = create_meta_emulator(
        SECRET,
        verify_token=VERIFY,
        retry_delay_seconds=0.01,
        require_appsecret_proof=True,
        echo="off",
    )
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as control:
        accounts: list[AccountRef] = []
        pairs = (("page", PAGE_ID, "Acme Mobile"), ("instagram", IG_ID, "acme_help"))
        for kind, account_id, name in pairs:
            control.post("/_emulator/accounts", json={"kind": kind, "id": account_id, "name": name})
            token = control.post("/_emulator/tokens", json={"account_id": account_id}).json()
            platform = Platform.FACEBOOK if kind == "page" else Platform.INSTAGRAM
            accounts.append(
                AccountRef(
                    id=len(accounts) + 1,
                    platform=platform,
                    external_id=account_id,
                    handle=name,
                    secrets={"access_token": token["access_token"]},
                )
            )
        yield MetaWorld(url, control, accounts[0], accounts[1])


def dm(body: str, recipient: str, *, human: bool = False) -> OutboundRequest:
    return OutboundRequest(
        kind=ReplyKind.DIRECT_MESSAGE,
        body=body,
        idempotency_key="k",
        recipient_id=recipient,
        human_agent_tag=human,
    )


def comment_reply(to: str, body: str = "Sorry! Could you DM us your model?") -> OutboundRequest:
    return OutboundRequest(
        kind=ReplyKind.PUBLIC_REPLY, body=body, idempotency_key="k", in_reply_to_id=to
    )


@pytest.mark.anyio
async def test_facebook_comment_reply(world: MetaWorld) -> None:
    comment = world.post(
        "/_emulator/customer/page_comment",
        customer={"name": "Sam Lee"},
        message="Battery drains since the update",
    )
    async with world.connector() as meta:
        result = await meta.send(world.page, comment_reply(comment["comment_id"]))
    [sent] = world.sent()
    assert sent["endpoint"] == "POST /{id}/comments"
    assert sent["path"] == f"/v21.0/{comment['comment_id']}/comments"
    assert sent["body"] == {"message": "Sorry! Could you DM us your model?"}
    assert sent["id"] == result.platform_message_id


@pytest.mark.anyio
async def test_instagram_comment_reply(world: MetaWorld) -> None:
    comment = world.post(
        "/_emulator/customer/ig_comment", customer={"username": "shopper"}, text="slow app"
    )
    async with world.connector() as meta:
        result = await meta.send(world.ig, comment_reply(comment["comment_id"], "On it!"))
        with pytest.raises(SendError) as wrong_edge:
            # A Facebook-style /comments call on an IG comment id is refused.
            await meta.send(world.page, comment_reply(comment["comment_id"]))
    assert wrong_edge.value.failure is SendFailure.PERMANENT
    assert wrong_edge.value.code == "100/33"
    [sent] = world.sent()
    assert sent["endpoint"] == "POST /{id}/replies"
    assert sent["path"] == f"/v21.0/{comment['comment_id']}/replies"
    assert sent["id"] == result.platform_message_id


@pytest.mark.anyio
async def test_messenger_window_and_human_agent_tag(world: MetaWorld) -> None:
    inbound = world.post("/_emulator/customer/messenger_dm", text="Need a new code")
    psid = inbound["sender_id"]
    async with world.connector() as meta:
        inside = await meta.send(world.page, dm("Sure, sending one now", psid))
        world.control.post("/_emulator/clock", json={"advance_seconds": 25 * 3600})
        with pytest.raises(SendError) as outside:
            await meta.send(world.page, dm("Did it work?", psid))
        assert outside.value.failure is SendFailure.OUTSIDE_WINDOW
        assert outside.value.code == "10/2018278"
        tagged = await meta.send(world.page, dm("Did it work?", psid, human=True))
        world.control.post("/_emulator/clock", json={"advance_seconds": 6 * 24 * 3600})
        with pytest.raises(SendError) as too_late:
            await meta.send(world.page, dm("Hello?", psid, human=True))
        assert too_late.value.failure is SendFailure.OUTSIDE_WINDOW
    first, second = world.sent()
    assert first["body"]["messaging_type"] == "RESPONSE" and "tag" not in first["body"]
    assert first["body"]["recipient"] == {"id": psid}
    assert first["body"]["message"] == {"text": "Sure, sending one now"}
    assert first["path"] == f"/v21.0/{PAGE_ID}/messages"
    assert second["body"]["messaging_type"] == "MESSAGE_TAG"
    assert second["body"]["tag"] == "HUMAN_AGENT"
    assert inside.platform_message_id == first["id"]
    assert tagged.conversation_id == f"{PAGE_ID}:{psid}"


@pytest.mark.anyio
async def test_instagram_dm_by_conversation(world: MetaWorld) -> None:
    inbound = world.post("/_emulator/customer/ig_dm", text="Where is my order?")
    conversation = f"{IG_ID}:{inbound['sender_id']}"
    request = OutboundRequest(
        kind=ReplyKind.DIRECT_MESSAGE,
        body="Checking!",
        idempotency_key="k",
        conversation_id=conversation,
    )
    async with world.connector() as meta:
        result = await meta.send(world.ig, request)
        with pytest.raises(SendError) as too_long:
            await meta.send(world.ig, dm("é" * 501, inbound["sender_id"]))  # 1002 bytes
    assert too_long.value.failure is SendFailure.PERMANENT
    [sent] = world.sent()
    assert sent["path"] == f"/v21.0/{IG_ID}/messages"
    assert sent["body"]["recipient"] == {"id": inbound["sender_id"]}
    assert result.platform_message_id == sent["id"]


@pytest.mark.anyio
async def test_invalidated_token_is_auth_revoked(world: MetaWorld) -> None:
    comment = world.post("/_emulator/customer/page_comment", message="hi")
    world.post("/_emulator/tokens/invalidate", account_id=PAGE_ID, subcode=460)
    async with world.connector() as meta:
        with pytest.raises(SendError) as caught:
            await meta.send(world.page, comment_reply(comment["comment_id"]))
    assert caught.value.failure is SendFailure.AUTH_REVOKED
    assert caught.value.code == "190/460"
    assert world.sent() == []


@pytest.mark.anyio
async def test_wrong_appsecret_proof_is_permanent(world: MetaWorld) -> None:
    comment = world.post("/_emulator/customer/page_comment", message="hi")
    async with world.connector(app_secret="some-other-secret") as meta:
        with pytest.raises(SendError) as caught:
            await meta.send(world.page, comment_reply(comment["comment_id"]))
    assert caught.value.failure is SendFailure.PERMANENT and caught.value.code == "100"


@pytest.mark.anyio
async def test_page_rate_limit_and_usage_headers(world: MetaWorld) -> None:
    world.control.put("/_emulator/config", json={"page_call_limit": 2})
    comment = world.post("/_emulator/customer/page_comment", message="hi")
    async with world.connector() as meta:
        await meta.send(world.page, comment_reply(comment["comment_id"], "one"))
        assert meta.rate_limit(world.page).remaining == 50
        await meta.send(world.page, comment_reply(comment["comment_id"], "two"))
        with pytest.raises(SendError) as caught:
            await meta.send(world.page, comment_reply(comment["comment_id"], "three"))
        state = meta.rate_limit(world.page)
    assert caught.value.failure is SendFailure.RATE_LIMITED and caught.value.code == "32"
    assert caught.value.retry_at is not None and caught.value.retry_at > datetime.now(UTC)
    assert state.remaining == 0 and state.reset_at is not None


@pytest.mark.anyio
async def test_injected_graph_errors(world: MetaWorld) -> None:
    comment = world.post("/_emulator/customer/page_comment", message="hi")
    cases = [
        (500, 2, None, SendFailure.RETRYABLE),
        (400, 368, None, SendFailure.PERMANENT),
        (400, 551, 1545041, SendFailure.PERMANENT),
        (400, 4, None, SendFailure.RATE_LIMITED),
    ]
    async with world.connector() as meta:
        for status, code, subcode, failure in cases:
            world.post("/_emulator/faults", status=status, code=code, error_subcode=subcode)
            with pytest.raises(SendError) as caught:
                await meta.send(world.page, comment_reply(comment["comment_id"]))
            assert caught.value.failure is failure, (code, caught.value.failure)
        ok = await meta.send(world.page, comment_reply(comment["comment_id"]))
    assert [s["id"] for s in world.sent()] == [ok.platform_message_id]


# -- webhooks from the emulator ------------------------------------------------------------


@pytest.fixture
def receiver(world: MetaWorld) -> Iterator[tuple[WebhookRecorder, MetaConnector]]:
    connector = world.connector()

    def handle(request: RecordedRequest) -> tuple[int, str, bytes] | None:
        try:
            if request.method == "GET":
                return 200, "text/plain", connector.hub_challenge(request.query).encode()
            connector.verify(request.headers, request.body)
        except VerificationError as exc:
            return exc.status_code, "text/plain", exc.reason.encode()
        return None

    recorder = WebhookRecorder(handler=handle)
    with serve_app(recorder) as url:
        world.control.put("/_emulator/webhook", json={"url": url + "/hooks/meta"})
        yield recorder, connector


def parse(connector: MetaConnector, request: RecordedRequest, world: MetaWorld) -> Any:
    return connector.parse_webhook(request.body, resolver(world.page, world.ig))


def test_customer_comment_arrives_ascii_escaped_and_signed(
    world: MetaWorld, receiver: tuple[WebhookRecorder, MetaConnector]
) -> None:
    recorder, connector = receiver
    result = world.post(
        "/_emulator/customer/page_comment",
        customer={"name": "Grégoire"},
        message="Grüße! Mein Akku 🔋 ist leer",
    )
    assert [d["status"] for d in result["deliveries"]] == [200]
    [request] = recorder.posts()
    assert request.body.isascii()
    assert b"Gr\\u00fc\\u00dfe" in request.body and b"\\ud83d\\udd0b" in request.body
    assert request.headers["x-hub-signature-256"] == meta_signature(SECRET, request.body)
    [message] = parse(connector, request, world).messages
    assert message.platform_message_id == result["comment_id"]
    assert message.body == "Grüße! Mein Akku 🔋 ist leer"
    assert message.author.display_name == "Grégoire"
    assert message.reply_to_id == result["post_id"]


def test_messenger_and_instagram_webhooks(
    world: MetaWorld, receiver: tuple[WebhookRecorder, MetaConnector]
) -> None:
    recorder, connector = receiver
    first = world.post("/_emulator/customer/messenger_dm", text="hello")
    world.post("/_emulator/customer/messenger_dm", text="again", reply_to_mid=first["mid"])
    world.post("/_emulator/customer/ig_dm", text="ig hello")
    comment = world.post("/_emulator/customer/ig_comment", text="nice", media_id="1801")
    world.post("/_emulator/customer/ig_comment", text="reply", parent_id=comment["comment_id"])
    messages = [m for r in recorder.posts() for m in parse(connector, r, world).messages]
    assert [m.platform for m in messages] == [Platform.MESSENGER] * 2 + [Platform.INSTAGRAM] * 3
    assert messages[1].reply_to_id == first["mid"]
    assert messages[1].conversation_id == f"{PAGE_ID}:{first['sender_id']}"
    assert messages[2].conversation_id and messages[2].conversation_id.startswith(IG_ID + ":")
    assert messages[3].reply_to_id == "1801"
    assert messages[4].reply_to_id == comment["comment_id"]
    assert messages[4].references == ("1801",)


def test_edit_and_remove_of_a_comment(
    world: MetaWorld, receiver: tuple[WebhookRecorder, MetaConnector]
) -> None:
    recorder, connector = receiver
    comment = world.post("/_emulator/customer/page_comment", message="typo")
    world.post(f"/_emulator/customer/page_comment/{comment['comment_id']}/edit", message="fixed")
    world.post(f"/_emulator/customer/page_comment/{comment['comment_id']}/remove")
    events = [parse(connector, r, world) for r in recorder.posts()]
    assert [len(e.messages) for e in events] == [1, 1, 1]
    assert events[1].messages[0].body == "fixed"
    assert events[1].messages[0].change is MessageChange.EDITED
    removed = events[2].messages[0]
    assert removed.change is MessageChange.REMOVED
    assert removed.platform_message_id == comment["comment_id"]


def test_retries_duplicates_and_batches(
    world: MetaWorld, receiver: tuple[WebhookRecorder, MetaConnector]
) -> None:
    recorder, connector = receiver
    recorder.statuses.extend([500, 502])
    result = world.post("/_emulator/customer/messenger_dm", text="retry")
    assert [d["status"] for d in result["deliveries"]] == [500, 502, 200]
    assert len({r.body for r in recorder.posts()}) == 1
    world.control.put("/_emulator/webhook", json={"duplicate_deliveries": 1})
    world.post("/_emulator/customer/messenger_dm", text="twice")
    assert recorder.posts()[3].body == recorder.posts()[4].body
    world.control.put("/_emulator/webhook", json={"duplicate_deliveries": 0, "hold": True})
    texts = ["a", "b", "c"]
    for text in texts:
        world.post("/_emulator/customer/messenger_dm", text=text)
    world.post("/_emulator/customer/page_comment", message="d")
    world.post("/_emulator/customer/ig_dm", text="e")
    assert len(recorder.posts()) == 5
    world.control.post("/_emulator/webhook/flush", json={"order": "reverse"})
    ig_batch, page_batch = recorder.posts()[5:]  # batches in order of first appearance
    assert len(json.loads(page_batch.body)["entry"]) == 4
    bodies = [m.body for m in parse(connector, page_batch, world).messages]
    assert bodies == ["d", "c", "b", "a"]
    assert [m.body for m in parse(connector, ig_batch, world).messages] == ["e"]


@pytest.mark.anyio
async def test_page_sends_are_echoed(
    world: MetaWorld, receiver: tuple[WebhookRecorder, MetaConnector]
) -> None:
    recorder, connector = receiver
    world.control.put("/_emulator/config", json={"echo": "before"})
    inbound = world.post("/_emulator/customer/messenger_dm", text="hi")
    comment = world.post("/_emulator/customer/page_comment", message="hey")
    async with world.connector() as meta:
        sent_dm = await meta.send(world.page, dm("Hello!", inbound["sender_id"]))
        dm_echo = parse(connector, recorder.posts()[-1], world)
        world.control.put("/_emulator/config", json={"echo": "after"})
        sent_comment = await meta.send(world.page, comment_reply(comment["comment_id"]))
    comment_echo = parse(connector, recorder.wait_for_posts(4)[-1], world)
    assert dm_echo.messages == [] and dm_echo.echoed_message_ids == [sent_dm.platform_message_id]
    assert json.loads(recorder.posts()[2].body)["entry"][0]["messaging"][0]["message"]["is_echo"]
    assert comment_echo.echoed_message_ids == [sent_comment.platform_message_id]


def test_hub_verification_against_the_receiver(
    world: MetaWorld, receiver: tuple[WebhookRecorder, MetaConnector]
) -> None:
    recorder, _ = receiver
    assert world.control.post("/_emulator/webhook/verify").json() == {"valid": True, "status": 200}
    world.control.put("/_emulator/config", json={"verify_token": "someone-else"})
    assert world.control.post("/_emulator/webhook/verify").json() == {
        "valid": False,
        "status": 403,
    }
    gets = [r for r in recorder.requests if r.method == "GET"]
    assert gets[0].query["hub.mode"] == "subscribe"


# -- emulator fidelity -------------------------------------------------------------------------


def test_graph_emulator_shapes(world: MetaWorld) -> None:
    inbound = world.post("/_emulator/customer/messenger_dm", text="hi")
    token = world.page.secrets["access_token"]
    params = {"access_token": token, "appsecret_proof": appsecret_proof(SECRET, token)}
    api = httpx.Client(base_url=world.url, params=params)
    message = {"recipient": {"id": inbound["sender_id"]}, "message": {"text": "x"}}
    ok = api.post("/v19.0/me/messages", json=message | {"messaging_type": "RESPONSE"})
    assert ok.status_code == 200 and set(ok.json()) == {"recipient_id", "message_id"}
    assert set(json.loads(ok.headers["x-app-usage"])) == {
        "call_count",
        "total_cputime",
        "total_time",
    }
    assert PAGE_ID in json.loads(ok.headers["x-business-use-case-usage"])
    form = {
        "recipient": json.dumps(message["recipient"]),
        "message": json.dumps(message["message"]),
        "messaging_type": "RESPONSE",
    }
    assert api.post(f"/v21.0/{PAGE_ID}/messages", data=form).status_code == 200
    retired = api.post(
        "/v21.0/me/messages",
        json=message | {"messaging_type": "MESSAGE_TAG", "tag": "ACCOUNT_UPDATE"},
    )
    error = retired.json()["error"]
    assert error["code"] == 100 and {"message", "type", "fbtrace_id"} <= set(error)
    assert api.post("/v21.0/me/messages", json=message).json()["error"]["code"] == 100
    stranger = message | {"recipient": {"id": "123"}, "messaging_type": "RESPONSE"}
    assert api.post("/v21.0/me/messages", json=stranger).json()["error"]["error_subcode"] == 2018001
    assert api.post("/latest/me/messages", json=message).status_code == 400
    no_token = httpx.post(f"{world.url}/v21.0/me/messages", json=message, timeout=30)
    assert no_token.json()["error"]["code"] == 104
