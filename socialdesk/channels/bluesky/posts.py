"""Public Bluesky replies that go out at most once.

``createRecord`` has no idempotency key, but it takes a caller-chosen record key. Each
reply's rkey is derived from the outbox row's ``idempotency_key`` (one per thread part),
so every attempt at the same reply writes to the same address: the delivery worker can
read the post back with ``getRecord`` before sending again, and a second create that
reaches the PDS anyway collides with the first instead of posting twice.

An rkey of an ``app.bsky.feed.post`` must be a TID: 13 characters of base32-sortable
(``234567a-z``) encoding a 64-bit integer whose top bit is 0, then 53 bits of
microseconds since the Unix epoch and 10 bits of clock id. Wire format:
../shared/specs/social-platform-apis.md §4 and §6.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from socialdesk.channels.base import AccountRef, SendError, SendFailure, SendResult
from socialdesk.channels.bluesky.notifications import POST_COLLECTION, parse_time

log = logging.getLogger(__name__)

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_LENGTH = 13
# With bit 63 clear, the first character only reaches the first half of the alphabet.
_TID_FIRST = TID_ALPHABET[:16]
_MICROS_BITS = 53
_CLOCK_ID_BITS = 10
# Keys without a creation time land in 2023-2025: a plausible age for a post, so that
# nothing sorting repos by rkey mistakes them for posts from the future or the 1970s.
_FALLBACK_START_MICROS = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
_FALLBACK_SPAN_MICROS = 3 * 365 * 24 * 3600 * 1_000_000

# How PDSes have answered a create at an rkey that is taken: the hosted PDS with a 500
# for years, newer ones with an explicit error. Any of these is worth a look-up.
_ALREADY_EXISTS_CODES = frozenset({"RecordAlreadyExists", "409"})
_KEY_TAKEN = "RecordKeyTaken"

Xrpc = Callable[..., Awaitable[dict[str, Any]]]


class _Remember(Protocol):
    def __call__(self, uri: str, cid: str, root: dict[str, str] | None) -> None: ...


def encode_tid(micros: int, clock_id: int) -> str:
    """The TID of ``micros`` since the epoch and ``clock_id`` (0..1023)."""
    if not 0 <= micros < 1 << _MICROS_BITS or not 0 <= clock_id < 1 << _CLOCK_ID_BITS:
        raise ValueError("a TID holds 53 bits of microseconds and a 10-bit clock id")
    number = (micros << _CLOCK_ID_BITS) | clock_id
    return "".join(TID_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(TID_LENGTH)))


def is_valid_tid(value: str) -> bool:
    return (
        len(value) == TID_LENGTH
        and value[0] in _TID_FIRST
        and all(character in TID_ALPHABET for character in value)
    )


def reply_rkey(idempotency_key: str, created_at: datetime | None, text: str = "") -> str:
    """The rkey of the reply with this ``idempotency_key``: the same on every attempt.

    The time is the reply's creation time cut to the millisecond; the microseconds
    within it and the clock id come from a hash of the key. The parts of one threaded
    answer share a creation time, so 20 bits of the key keep their rkeys apart.

    The text is hashed too: the outbox never changes a reply's text between attempts,
    but a caller that reuses one key for different replies should get two posts, not
    a refusal because the first one holds the key."""
    digest = hashlib.sha256(f"{idempotency_key}\n{text}".encode()).digest()
    spread = int.from_bytes(digest[:8], "big")
    clock_id = int.from_bytes(digest[8:10], "big") & ((1 << _CLOCK_ID_BITS) - 1)
    if created_at is None:
        micros = _FALLBACK_START_MICROS + spread % _FALLBACK_SPAN_MICROS
    else:
        moment = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        millis = int(moment.timestamp() * 1000)
        micros = max(millis, 0) * 1000 + spread % 1000
    return encode_tid(micros, clock_id)


def may_already_exist(error: SendError) -> bool:
    """A failed create that may mean the rkey is taken (or that the write happened
    before the error): worth a ``getRecord`` before giving up."""
    if error.failure is SendFailure.RETRYABLE:
        return True
    if error.failure is not SendFailure.PERMANENT:
        return False
    return error.code in _ALREADY_EXISTS_CODES or (
        error.code == "InvalidRequest" and "already exist" in error.reason.lower()
    )


def _is_not_found(error: SendError) -> bool:
    return error.failure is SendFailure.PERMANENT and (
        error.code == "RecordNotFound" or "could not locate record" in error.reason.lower()
    )


class BlueskyPosts:
    """Creates reply posts at derived rkeys and reads them back; ``xrpc`` is the
    connector's authenticated call, ``remember`` its cache of post cids and roots."""

    def __init__(self, xrpc: Xrpc, remember: _Remember) -> None:
        self._xrpc = xrpc
        self._remember = remember

    async def create_reply(
        self, account: AccountRef, repo: str, record: Mapping[str, Any], rkey: str
    ) -> SendResult:
        """Post ``record`` at ``rkey`` in ``repo``; a post already there with the same
        text (an earlier attempt whose answer was lost) counts as this one."""
        try:
            body = await self._xrpc(
                account,
                "POST",
                "com.atproto.repo.createRecord",
                json_body={
                    "repo": repo,
                    "collection": POST_COLLECTION,
                    "rkey": rkey,
                    "record": dict(record),
                },
            )
        except SendError as error:
            if not may_already_exist(error):
                raise
            try:
                found = await self.find(account, repo, rkey, str(record.get("text", "")))
            except SendError as lookup_error:
                # Another post at our key is the news; a failed look-up is not.
                taken = lookup_error.code == _KEY_TAKEN
                raise (lookup_error if taken else error) from None
            if found is None:
                raise
            log.info("bluesky: reply %s was already posted; not posting it again", rkey)
            return found
        uri, cid = body.get("uri"), body.get("cid")
        if not isinstance(uri, str) or not isinstance(cid, str):
            raise SendError(SendFailure.RETRYABLE, "createRecord returned no uri")
        self._remember(uri, cid, _root_of(record))
        return SendResult(platform_message_id=uri, sent_at=parse_time(record.get("createdAt")))

    async def find(self, account: AccountRef, repo: str, rkey: str, text: str) -> SendResult | None:
        """The post at ``rkey`` in ``repo`` when it holds ``text``; None when there is
        none. A different post there means the key is taken by something else: that is
        an error, since sending would collide with it again."""
        params: Sequence[tuple[str, str]] = [
            ("repo", repo),
            ("collection", POST_COLLECTION),
            ("rkey", rkey),
        ]
        try:
            got = await self._xrpc(account, "GET", "com.atproto.repo.getRecord", params=params)
        except SendError as error:
            if _is_not_found(error):
                return None
            raise
        uri, cid, value = got.get("uri"), got.get("cid"), got.get("value")
        if not isinstance(uri, str) or not isinstance(cid, str) or not isinstance(value, dict):
            return None
        if value.get("text") != text:
            raise SendError(
                SendFailure.PERMANENT,
                f"another post already has this reply's record key: {uri}",
                code=_KEY_TAKEN,
            )
        self._remember(uri, cid, _root_of(value))
        return SendResult(platform_message_id=uri, sent_at=parse_time(value.get("createdAt")))


def _root_of(record: Mapping[str, Any]) -> dict[str, str] | None:
    reply = record.get("reply")
    root = reply.get("root") if isinstance(reply, dict) else None
    if isinstance(root, dict) and root.get("uri") and root.get("cid"):
        return {"uri": str(root["uri"]), "cid": str(root["cid"])}
    return None
