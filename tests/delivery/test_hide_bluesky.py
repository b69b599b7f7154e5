"""Hiding a customer's Bluesky reply end to end through the REST API.

Bluesky lets only the author of a thread's first post hide replies in it, by listing
them in the ``hiddenReplies`` of the threadgate record on that post. The customer acts
on the Bluesky emulator (served over real HTTP), socialdesk polls it, the agent hides
through the API, and the emulator's threadgate shows what socialdesk wrote."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from socialdesk.channels.bluesky.emulator import BlueskyEmulator, create_bluesky_app
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database
from tests.delivery.helpers import admin_api, connect_bluesky_brand, eventually
from tests.pipeline.helpers import ingest, post

__all__ = ["admin_api"]  # a pytest fixture

GATE = "app.bsky.feed.threadgate"
POST = "app.bsky.feed.post"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Desk:
    """The Bluesky emulator, socialdesk's API as an admin, and the brand's own session
    on the emulator (what the brand does in the Bluesky app)."""

    pds: httpx.Client
    api: httpx.Client
    emulator: BlueskyEmulator
    brand_jwt: str
    account_id: int

    @property
    def brand_did(self) -> str:
        return self.emulator.brand.did

    def as_brand(self, nsid: str, body: dict[str, Any]) -> httpx.Response:
        return self.pds.post(
            f"/xrpc/{nsid}", json=body, headers={"Authorization": f"Bearer {self.brand_jwt}"}
        )

    def brand_post(self, text: str) -> str:
        """A top-level post by the brand: a thread the brand starts."""
        created = self.as_brand(
            "com.atproto.repo.createRecord",
            {
                "repo": self.brand_did,
                "collection": POST,
                "record": {"$type": POST, "text": text, "createdAt": _now()},
            },
        )
        assert created.status_code == 200, created.text
        return str(created.json()["uri"])

    def customer_reply(self, handle: str, parent_uri: str, text: str) -> str:
        answer = self.pds.post(
            "/_emulator/customer/reply",
            json={"handle": handle, "parent_uri": parent_uri, "text": text},
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["uri"])

    def customer_mention(self, handle: str, text: str) -> str:
        answer = self.pds.post("/_emulator/customer/mention", json={"handle": handle, "text": text})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["uri"])

    def gate(self, root_uri: str) -> dict[str, Any]:
        found: dict[str, Any] = self.pds.get(
            "/_emulator/threadgate", params={"post": root_uri}
        ).json()
        return found

    def gate_calls(self) -> list[dict[str, Any]]:
        """Every threadgate read or write socialdesk made on the emulator."""
        return [
            r
            for r in self.pds.get("/_emulator/requests").json()
            if r["nsid"] == "com.atproto.repo.putRecord"
            or (r["nsid"] == "com.atproto.repo.getRecord" and GATE in r["query"])
        ]

    def puts(self) -> list[dict[str, Any]]:
        return [
            s
            for s in self.pds.get("/_emulator/sent").json()
            if s["endpoint"] == "com.atproto.repo.putRecord"
        ]

    def ticket_of(self, uri: str) -> tuple[int, int]:
        """(ticket id, message id) of the stored message with this post uri."""

        def probe() -> tuple[int, int] | None:
            for summary in self.api.get("/tickets", params={"status": "unsolved"}).json()["data"]:
                for message in self.api.get(f"/tickets/{summary['id']}").json()["messages"]:
                    if message["platform_message_id"] == uri:
                        return summary["id"], message["id"]
            return None

        found: tuple[int, int] = eventually(probe)
        return found

    def message(self, ticket_id: int, message_id: int) -> dict[str, Any]:
        messages = self.api.get(f"/tickets/{ticket_id}").json()["messages"]
        found: dict[str, Any] = next(m for m in messages if m["id"] == message_id)
        return found

    def hide(self, ticket_id: int, message_id: int, hidden: bool) -> httpx.Response:
        return self.api.post(
            f"/tickets/{ticket_id}/messages/{message_id}/hide", json={"hidden": hidden}
        )

    def event_kinds(self, ticket_id: int) -> list[str]:
        return [e["kind"] for e in self.api.get(f"/tickets/{ticket_id}/events").json()]


@pytest.fixture
def desk(admin_api: Callable[[Settings], Any]) -> Iterator[Desk]:
    app = create_bluesky_app()
    emulator: BlueskyEmulator = app.state.emulator
    with serve_app(app) as pds_url, httpx.Client(base_url=pds_url, timeout=30) as pds:
        _base, api = admin_api(Settings())
        account_id = connect_bluesky_brand(api, emulator, pds_url)
        session = pds.post(
            "/xrpc/com.atproto.server.createSession",
            json={"identifier": emulator.brand_handle, "password": emulator.app_password},
        )
        assert session.status_code == 200, session.text
        yield Desk(pds, api, emulator, session.json()["accessJwt"], account_id)


def test_reply_in_the_brands_thread_hidden_and_unhidden(desk: Desk) -> None:
    root = desk.brand_post("Our spring sale starts today")
    spam = desk.customer_reply("spam-bot.bsky.social", root, "cheap followers at spam.example")
    ticket_id, message_id = desk.ticket_of(spam)

    hidden = desk.hide(ticket_id, message_id, True)
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["id"] == message_id and hidden.json()["hidden_at"]
    gate = desk.gate(root)
    assert gate["hidden_replies"] == [spam]
    assert gate["uri"] == f"at://{desk.brand_did}/{GATE}/{root.rsplit('/', 1)[1]}"
    assert gate["value"]["post"] == root and gate["value"]["$type"] == GATE
    # A new threadgate only hides: no "allow" key, so anyone can still reply.
    assert "allow" not in gate["value"]
    [put] = desk.puts()
    assert put["body"]["repo"] == desk.brand_did
    assert put["body"]["rkey"] == root.rsplit("/", 1)[1]
    assert put["body"]["swapRecord"] is None  # created: there was no threadgate before
    assert desk.message(ticket_id, message_id)["hidden_at"] is not None
    assert desk.event_kinds(ticket_id).count("message_hidden") == 1
    audit = desk.api.get("/audit").json()
    assert audit[0]["action"] == "ticket.message_hidden"
    assert audit[0]["object_id"] == ticket_id
    assert audit[0]["data"]["message_id"] == message_id

    # Hiding it again is a no-op success: Bluesky is not asked, nothing recorded.
    again = desk.hide(ticket_id, message_id, True)
    assert again.status_code == 200 and again.json()["hidden_at"] == hidden.json()["hidden_at"]
    assert len(desk.puts()) == 1
    assert desk.event_kinds(ticket_id).count("message_hidden") == 1

    # A reply deeper in the same thread (answering the spam, mentioning the brand) has
    # the same root: it joins the same threadgate, after the first.
    deeper = desk.customer_reply(
        "dave.bsky.social",
        spam,
        f"@{desk.emulator.brand_handle} this account is spamming your thread",
    )
    deeper_ticket, deeper_message = desk.ticket_of(deeper)
    assert desk.hide(deeper_ticket, deeper_message, True).status_code == 200
    assert desk.gate(root)["hidden_replies"] == [spam, deeper]
    assert desk.puts()[-1]["body"]["swapRecord"] == gate["cid"]

    shown = desk.hide(ticket_id, message_id, False)
    assert shown.status_code == 200, shown.text
    assert shown.json()["hidden_at"] is None
    assert desk.gate(root)["hidden_replies"] == [deeper]
    assert desk.message(ticket_id, message_id)["hidden_at"] is None
    assert "message_unhidden" in desk.event_kinds(ticket_id)
    assert desk.api.get("/audit").json()[0]["action"] == "ticket.message_unhidden"


def test_thread_started_by_the_customer_is_refused_with_422(desk: Desk) -> None:
    mention = desk.customer_mention(
        "angry-ann.bsky.social", f"@{desk.emulator.brand_handle} worst service ever"
    )
    ticket_id, mention_id = desk.ticket_of(mention)

    # The customer's own top-level post starts its thread: nothing of ours to hide in.
    refused = desk.hide(ticket_id, mention_id, True)
    assert refused.status_code == 422, refused.text
    reason = refused.json()["error"]["reason"]
    assert "only the author of the thread's first post" in reason
    assert "started by the customer" in reason

    # The brand answers; the customer's reply to that answer is still in her thread.
    answer = desk.api.post(f"/tickets/{ticket_id}/replies", json={"body": "Sorry Ann, DM us?"})
    assert answer.status_code == 201, answer.text
    ours = eventually(
        lambda: [
            s["uri"]
            for s in desk.pds.get("/_emulator/sent").json()
            if s["endpoint"] == "com.atproto.repo.createRecord"
        ]
    )[0]
    follow_up = desk.customer_reply("angry-ann.bsky.social", ours, "no, fix it here")
    follow_ticket, follow_id = desk.ticket_of(follow_up)
    assert follow_ticket == ticket_id
    refused = desk.hide(ticket_id, follow_id, True)
    assert refused.status_code == 422, refused.text
    assert "started by the customer" in refused.json()["error"]["reason"]

    # Nothing was asked of Bluesky and nothing recorded.
    assert desk.gate_calls() == []
    assert desk.gate(mention)["uri"] is None
    assert all(
        m["hidden_at"] is None for m in desk.api.get(f"/tickets/{ticket_id}").json()["messages"]
    )
    assert "message_hidden" not in desk.event_kinds(ticket_id)
    assert not [a for a in desk.api.get("/audit").json() if a["action"] == "ticket.message_hidden"]


def test_existing_reply_rules_are_kept(desk: Desk) -> None:
    root = desk.brand_post("Ask us anything about the new plans")
    rkey = root.rsplit("/", 1)[1]
    elsewhere = f"at://did:plc:someoneelse0000000000000/{POST}/3kabcdefghijk"
    rules = [
        {"$type": f"{GATE}#mentionRule"},
        {"$type": f"{GATE}#followingRule"},
    ]
    # The brand limited replies in the Bluesky app and hid one reply there already.
    seeded = desk.as_brand(
        "com.atproto.repo.putRecord",
        {
            "repo": desk.brand_did,
            "collection": GATE,
            "rkey": rkey,
            "record": {
                "$type": GATE,
                "post": root,
                "allow": rules,
                "createdAt": "2026-01-02T03:04:05.000Z",
                "hiddenReplies": [elsewhere],
            },
            "swapRecord": None,
        },
    )
    assert seeded.status_code == 200, seeded.text
    troll = desk.customer_reply(
        "troll.bsky.social", root, f"@{desk.emulator.brand_handle} you are all scammers"
    )
    ticket_id, message_id = desk.ticket_of(troll)

    assert desk.hide(ticket_id, message_id, True).status_code == 200
    gate = desk.gate(root)
    assert gate["hidden_replies"] == [elsewhere, troll]
    assert gate["value"]["allow"] == rules
    assert gate["value"]["createdAt"] == "2026-01-02T03:04:05.000Z"
    assert desk.puts()[-1]["body"]["swapRecord"] == seeded.json()["cid"]

    assert desk.hide(ticket_id, message_id, False).status_code == 200
    gate = desk.gate(root)
    assert gate["hidden_replies"] == [elsewhere]
    assert gate["value"]["allow"] == rules


def test_concurrent_edits_are_not_lost(desk: Desk) -> None:
    root = desk.brand_post("Giveaway: reply to enter")
    spam = [
        desk.customer_reply(f"bot{i}.bsky.social", root, f"free crypto at scam{i}.example")
        for i in range(2)
    ]
    found = [desk.ticket_of(uri) for uri in spam]

    # Two agents hide two replies of one thread at the same moment.
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda tm: desk.hide(tm[0], tm[1], True), found))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert sorted(desk.gate(root)["hidden_replies"]) == sorted(spam)

    # Someone edits the threadgate between our read and our write: Bluesky answers
    # InvalidSwap, and the change is applied again on what is there now.
    desk.pds.post(
        "/_emulator/faults",
        json={"status": 400, "error": "InvalidSwap", "nsid": "com.atproto.repo.putRecord"},
    )
    assert desk.hide(*found[0], False).status_code == 200
    assert desk.gate(root)["hidden_replies"] == [spam[1]]
    statuses = [c["status"] for c in desk.gate_calls() if "putRecord" in c["nsid"]]
    assert statuses[-2:] == [400, 200]


def test_reply_stored_without_its_root_has_it_read_from_bluesky(desk: Desk, db: Database) -> None:
    """Replies the brand is not notified of (answers to other customers) can still reach
    a ticket without their thread's root; the connector reads it from the reply."""
    root = desk.brand_post("Maintenance tonight")
    spam = desk.customer_reply("spam-bot.bsky.social", root, "spam.example")
    deeper = desk.customer_reply("bot2.bsky.social", spam, "more spam.example")
    mention = desk.customer_mention("erin.bsky.social", "charged twice")
    own = desk.customer_reply("erin.bsky.social", mention, "and again today")
    for uri, author, parent in ((deeper, "bot2", spam), (own, "erin", mention)):
        ingest(
            db,
            post(
                desk.account_id, uri, "…", author=author, platform=Platform.BLUESKY, reply_to=parent
            ),
        )

    ticket_id, message_id = desk.ticket_of(deeper)
    assert desk.hide(ticket_id, message_id, True).status_code == 200
    assert desk.gate(root)["hidden_replies"] == [deeper]

    own_ticket, own_message = desk.ticket_of(own)
    refused = desk.hide(own_ticket, own_message, True)
    assert refused.status_code == 422, refused.text
    assert "started by the customer" in refused.json()["error"]["reason"]
    assert desk.gate(mention)["uri"] is None
    assert "message_hidden" not in desk.event_kinds(own_ticket)


def test_expired_session_is_refreshed_and_a_revoked_one_asks_for_reauthorization(
    desk: Desk,
) -> None:
    root = desk.brand_post("Service update")
    spam = desk.customer_reply("spam-bot.bsky.social", root, "click spam.example")
    ticket_id, message_id = desk.ticket_of(spam)
    assert desk.hide(ticket_id, message_id, True).status_code == 200  # logs in

    # The access token expired: refreshed once, and the call goes through.
    refreshes = desk.pds.get("/_emulator/stats").json()["refreshSession"]
    desk.pds.post("/_emulator/session/expire")
    assert desk.hide(ticket_id, message_id, False).status_code == 200
    assert desk.gate(root)["hidden_replies"] == []
    assert desk.pds.get("/_emulator/stats").json()["refreshSession"] > refreshes

    # The app password was revoked: the refresh fails, Bluesky's reason comes back,
    # nothing is recorded and the account asks for re-authorization.
    desk.pds.post("/_emulator/session/expire")
    desk.pds.post("/_emulator/session/revoke")
    refused = desk.hide(ticket_id, message_id, True)
    assert refused.status_code == 502, refused.text
    assert refused.json()["error"]["reason"].startswith("Bluesky refused: session refresh failed")
    assert desk.gate(root)["hidden_replies"] == []
    assert desk.message(ticket_id, message_id)["hidden_at"] is None
    assert desk.event_kinds(ticket_id).count("message_hidden") == 1
    [account] = desk.api.get("/channel-accounts").json()
    assert account["needs_reauthorization"] is True


def test_emulator_threadgate_rules(desk: Desk) -> None:
    """The emulator's putRecord and getRecord, as the brand calls them directly."""
    root = desk.brand_post("Emulator rules")
    rkey = root.rsplit("/", 1)[1]
    record = {"$type": GATE, "post": root, "createdAt": _now(), "hiddenReplies": []}

    def put(**changes: Any) -> httpx.Response:
        body = {"repo": desk.brand_did, "collection": GATE, "rkey": rkey, "record": record}
        return desk.as_brand("com.atproto.repo.putRecord", {**body, **changes})

    def get() -> httpx.Response:
        return desk.pds.get(
            "/xrpc/com.atproto.repo.getRecord",
            params={"repo": desk.brand_did, "collection": GATE, "rkey": rkey},
            headers={"Authorization": f"Bearer {desk.brand_jwt}"},
        )

    missing = get()
    assert missing.status_code == 400 and missing.json()["error"] == "RecordNotFound"
    assert put(swapRecord="bafyreinotthere").json()["error"] == "InvalidSwap"
    created = put(swapRecord=None)
    assert created.status_code == 200, created.text
    assert set(created.json()) >= {"uri", "cid"}
    assert get().json() == {
        "uri": created.json()["uri"],
        "cid": created.json()["cid"],
        "value": record,
    }
    # null means "must not exist yet": a second creation loses.
    lost = put(swapRecord=None)
    assert lost.status_code == 400 and lost.json()["error"] == "InvalidSwap"
    assert lost.json()["message"] == f"Record was at {created.json()['cid']}"

    customer_did = desk.customer_mention("carol.bsky.social", "hello").split("/")[2]
    other_repo = put(repo=customer_did)
    assert other_repo.status_code == 401
    assert other_repo.json()["error"] == "AuthenticationRequired"
    wrong_rkey = put(rkey="3zzzzzzzzzzzz")
    assert wrong_rkey.status_code == 400 and "rkey" in wrong_rkey.json()["message"]
    too_many = put(record={**record, "hiddenReplies": [root] * 301})
    assert too_many.status_code == 400 and "300" in too_many.json()["message"]
    no_auth = desk.pds.post("/xrpc/com.atproto.repo.putRecord", json={})
    assert no_auth.status_code == 401 and no_auth.json()["error"] == "AuthMissing"
