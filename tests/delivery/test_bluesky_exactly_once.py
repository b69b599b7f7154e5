"""A public Bluesky reply goes out once, whatever dies when.

``createRecord`` has no idempotency key; the reply's rkey is derived from the outbox
row's key instead (``channels.bluesky_posts``), so a worker that lost the PDS's answer
reads the post back with ``getRecord``, and a create that runs again anyway collides
with the first one instead of posting twice."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from socialdesk.actions import tickets as ticket_actions
from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.channels.bluesky.emulator import create_bluesky_app
from socialdesk.channels.bluesky.posts import TID_ALPHABET, is_valid_tid, reply_rkey
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.config import Settings
from socialdesk.delivery.worker import Claim, DeliveryWorker
from socialdesk.domain.enums import Platform, Role
from socialdesk.loopback import serve_app
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.polling import poll_account
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import Message, OutboxEntry, Ticket, User

PASSWORD = "correct horse battery"
LATER = timedelta(minutes=5)  # past the dead worker's claim


def fresh() -> ConnectorRegistry:
    """Connectors for one ``asyncio.run`` (their HTTP clients belong to its loop)."""
    return ConnectorRegistry(Settings())


@dataclass
class Brand:
    db: Database
    emulator: Any
    account_id: int

    def worker(self, *, later: bool = False, **options: Any) -> DeliveryWorker:
        if later:
            return DeliveryWorker(self.db, fresh(), clock=lambda: utcnow() + LATER, **options)
        return DeliveryWorker(self.db, fresh(), **options)

    def posts(self) -> list[dict[str, Any]]:
        return [s for s in self.emulator.sent if s["endpoint"] == "com.atproto.repo.createRecord"]

    def brand_posts(self) -> list[str]:
        """Posts in the brand's repo on the emulated PDS."""
        brand = self.emulator.brand_did
        return [uri for uri in self.emulator.posts if uri.startswith(f"at://{brand}/")]

    def customer_mentions(self, text: str) -> None:
        pds = self.emulator
        author = pds.profile("dana.bsky.social")
        pds.create_post(author, pds.customer_record(f"@{pds.brand.handle} {text}"))
        outcome = asyncio.run(poll_account(self.db, Pipeline(), fresh(), self.account_id))
        assert outcome.stored == 1, outcome

    def agent_replies(self, body: str) -> int:
        with self.db.write() as s:
            ticket = s.scalar(select(Ticket).order_by(Ticket.id.desc()))
            agent = s.scalar(select(User))
            assert ticket is not None and agent is not None
            return ticket_actions.reply(s, ticket, agent, body).id

    def message(self, message_id: int) -> Message:
        with self.db.session() as s:
            message = s.get(Message, message_id)
            assert message is not None
            return message


@pytest.fixture
def brand(db: Database) -> Iterator[Brand]:
    app = create_bluesky_app()
    emulator = app.state.emulator
    with serve_app(app) as pds_url:
        with db.write() as s:
            workspace = ensure_workspace(s)
            create_user(s, "agent@example.com", PASSWORD, Role.AGENT, workspace=workspace)
            account_id = create_channel_account(
                s,
                None,
                workspace_id=workspace.id,
                platform=Platform.BLUESKY,
                handle=emulator.brand_handle,
                external_id=emulator.brand_did,
                secrets={"app_password": emulator.app_password},
                settings={"base_url": pds_url, "direct_messages": False},
            ).id
        yield Brand(db, emulator, account_id)


async def _die(_claim: Claim, _result: Any) -> None:
    raise KeyboardInterrupt  # the process dies after the PDS accepted the post


async def _lose_the_answer(_claim: Claim, _result: Any) -> None:
    raise ConnectionError("connection reset before the answer was read")


def test_worker_killed_after_the_pds_accepted_the_reply_posts_it_once(brand: Brand) -> None:
    brand.customer_mentions("my order 881 is late")
    reply = brand.agent_replies("Sorry! It ships today.")

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(brand.worker(after_send=_die).run_once())
    [post] = brand.posts()
    assert brand.message(reply).delivery_state == "sending"

    assert asyncio.run(brand.worker(later=True).run_once()) == 1
    assert brand.posts() == [post]  # read back, not posted again
    assert brand.emulator.stats["recordExists"] == 0  # found by getRecord, no create tried
    message = brand.message(reply)
    assert message.delivery_state == "sent"
    assert message.platform_message_id == post["uri"]
    assert post["body"]["rkey"] == post["uri"].rsplit("/", 1)[1]
    assert len(brand.brand_posts()) == 1


def test_a_retry_after_a_lost_answer_finds_the_post(brand: Brand) -> None:
    brand.customer_mentions("the app logs me out")
    reply = brand.agent_replies("We are on it, sorry.")

    # The worker survives, but the answer never reached it; the row is queued again as
    # a retry (``attempts`` > 0), so the next claim looks before sending.
    asyncio.run(brand.worker(after_send=_lose_the_answer).run_once())
    [post] = brand.posts()
    with brand.db.write() as s:
        s.execute(
            update(OutboxEntry)
            .where(OutboxEntry.message_id == reply)
            .values(state="queued", next_attempt_at=utcnow(), claimed_until=None)
        )
        entry = s.scalar(select(OutboxEntry).where(OutboxEntry.message_id == reply))
        assert entry is not None and entry.attempts == 1

    assert asyncio.run(brand.worker().run_once()) == 1
    assert brand.posts() == [post]
    assert brand.emulator.stats["recordExists"] == 0
    message = brand.message(reply)
    assert (message.delivery_state, message.platform_message_id) == ("sent", post["uri"])
    assert len(brand.brand_posts()) == 1


@pytest.mark.parametrize(
    "answer",
    [(400, "InvalidRequest"), (500, "InternalServerError")],
    ids=["explicit-error", "hosted-pds-500"],
)
def test_a_create_that_collides_with_the_earlier_post_counts_as_sent(
    brand: Brand, answer: tuple[int, str]
) -> None:
    """The look-up before the second attempt fails (a 5xx from getRecord), so the reply
    is created again: the PDS refuses the taken rkey, however it says so, and the post
    already there is recorded as this reply."""
    brand.emulator.record_exists_error = answer
    brand.customer_mentions("refund?")
    reply = brand.agent_replies("Your refund went out today.")
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(brand.worker(after_send=_die).run_once())
    [post] = brand.posts()
    brand.emulator.faults.append(
        {
            "status": 502,
            "error": "UpstreamFailure",
            "message": "Upstream Failure",
            "remaining": 1,
            "nsid": "com.atproto.repo.getRecord",
        }
    )

    assert asyncio.run(brand.worker(later=True).run_once()) == 1
    assert brand.emulator.stats["recordExists"] == 1
    assert brand.posts() == [post]
    message = brand.message(reply)
    assert (message.delivery_state, message.platform_message_id) == ("sent", post["uri"])
    assert len(brand.brand_posts()) == 1


def test_a_threaded_answer_resumes_at_the_part_that_was_lost(brand: Brand) -> None:
    brand.customer_mentions("what are my options?")
    sentences = [f"Option {n}: this is a long explanation of choice number {n}." for n in range(14)]
    reply = brand.agent_replies(" ".join(sentences))
    crashes = iter([False, True])

    async def die_on_the_second_part(claim: Claim, result: Any) -> None:
        if next(crashes):
            await _die(claim, result)

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(brand.worker(after_send=die_on_the_second_part).run_once())
    first, second = brand.posts()

    assert asyncio.run(brand.worker(later=True).run_once()) == 1
    posts = brand.posts()
    assert posts[:2] == [first, second] and len(posts) >= 3
    assert len({p["uri"] for p in posts}) == len(posts) == len(brand.brand_posts())
    message = brand.message(reply)
    assert (message.delivery_state, message.platform_message_id) == ("sent", first["uri"])
    assert message.meta["thread_ids"] == [p["uri"] for p in posts]
    # Each part answers the one before it.
    for before, after in itertools.pairwise(posts):
        assert after["body"]["record"]["reply"]["parent"]["uri"] == before["uri"]


# -- the record key --------------------------------------------------------------------

WRITTEN = datetime(2026, 11, 23, 23, 51, 7, 123456, tzinfo=UTC)


def _decode(tid: str) -> int:
    number = 0
    for character in tid:
        number = number * 32 + TID_ALPHABET.index(character)
    return number


@pytest.mark.parametrize(
    ("key", "created_at", "text"),
    [
        ("0b9c6a3e-5f0e-4b8e-9d53-1f6c2a7d9e10", WRITTEN, "Sorry! It ships today."),
        ("0b9c6a3e-5f0e-4b8e-9d53-1f6c2a7d9e10-part1", WRITTEN, "1/2 The long answer"),
        ("0b9c6a3e-5f0e-4b8e-9d53-1f6c2a7d9e10-part2", WRITTEN, "2/2 goes on here."),
        ("k", None, "A reply built without a creation time"),
        ("", datetime(1970, 1, 1, tzinfo=UTC), ""),
        ("naive", datetime(2026, 1, 1, 12, 0), "A naive time is taken as UTC"),
        ("far", datetime(2200, 1, 1, tzinfo=UTC), "Still 53 bits of microseconds"),
    ],
)
def test_reply_rkey_is_a_valid_tid_stable_per_key(
    key: str, created_at: datetime | None, text: str
) -> None:
    rkey = reply_rkey(key, created_at, text)
    assert rkey == reply_rkey(key, created_at, text)  # every attempt writes the same key
    assert is_valid_tid(rkey)
    assert len(rkey) == 13 and set(rkey) <= set(TID_ALPHABET)
    number = _decode(rkey)
    assert number < 1 << 63  # the top bit is clear
    micros = number >> 10
    if created_at is None:
        assert (
            datetime(2023, 1, 1, tzinfo=UTC)
            <= datetime.fromtimestamp(micros / 1e6, tz=UTC)
            < datetime(2026, 1, 1, tzinfo=UTC)
        )
    else:
        written = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        whole_ms = int(written.timestamp() * 1000) * 1000
        assert whole_ms <= micros < whole_ms + 1000  # the millisecond it was written


def test_reply_rkeys_differ_across_keys_and_parts() -> None:
    keys = [f"entry-{n}" for n in range(500)]
    keys += [f"entry-7-part{n}" for n in range(1, 40)]
    rkeys = {reply_rkey(key, WRITTEN, "same words") for key in keys}
    assert len(rkeys) == len(keys)
    # Another message written a moment later sorts after this one.
    assert reply_rkey("a", WRITTEN, "x") < reply_rkey("b", WRITTEN + timedelta(milliseconds=1), "x")
    # A caller reusing a key for different words gets two posts, not a collision.
    assert reply_rkey("k", WRITTEN, "one") != reply_rkey("k", WRITTEN, "two")


@pytest.mark.parametrize(
    ("rkey", "valid"),
    [
        ("3jzfcijpj2z2a", True),
        ("2222222222222", True),
        ("jzzzzzzzzzzzz", True),
        ("kzzzzzzzzzzzz", False),  # the top bit set
        ("3jzfcijpj2z2", False),  # 12 characters
        ("3jzfcijpj2z2aa", False),
        ("3jzfcijpj2z21", False),  # "1" is not in the alphabet
        ("3JZFCIJPJ2Z2A", False),
        ("self", False),
    ],
)
def test_tid_format(rkey: str, valid: bool) -> None:
    assert is_valid_tid(rkey) is valid
