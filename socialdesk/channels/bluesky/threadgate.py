"""Hiding a customer's Bluesky reply: the ``hiddenReplies`` of the thread's threadgate.

Bluesky lets only the author of a thread's first post hide replies in it, by listing
their uris in the ``app.bsky.feed.threadgate`` record whose rkey is the first post's
rkey, in the author's own repo (spec §4). The change is a read-modify-write of that one
record: ``getRecord``, then ``putRecord`` with ``swapRecord`` set to the CID read (null
when creating), so an edit made meanwhile (the brand changing who may reply in the app,
another agent hiding another reply) is never overwritten: the record is read again and
the change applied on top, up to three times. Everything else the record holds
(``allow``, ``createdAt``) is kept; a new record gets no ``allow`` (an empty one would
stop everyone replying).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from socialdesk.channels.base import AccountRef, SendError, SendFailure
from socialdesk.channels.bluesky.chat import XrpcCall

log = logging.getLogger(__name__)

THREADGATE_COLLECTION = "app.bsky.feed.threadgate"
# The threadgate lexicon's limit on ``hiddenReplies``.
MAX_HIDDEN_REPLIES = 300
# Our own error code (not Bluesky's) for a hide refused before asking: only the author of
# a thread's first post can hide replies in it.
NOT_THREAD_AUTHOR = "NotThreadAuthor"
# Read-modify-write rounds of a threadgate before giving up on concurrent edits.
GATE_TRIES = 3


def parse_at_uri(uri: str) -> tuple[str, str, str]:
    """``at://<did>/<collection>/<rkey>`` → (repo, collection, rkey)."""
    parts = uri.removeprefix("at://").split("/")
    if not uri.startswith("at://") or len(parts) != 3 or not all(parts):
        raise SendError(SendFailure.PERMANENT, f"not a record uri: {uri}")
    return parts[0], parts[1], parts[2]


def thread_root_of(
    post_uri: str, reply_to_uri: str | None, references: Sequence[str]
) -> str | None:
    """The uri of the first post of the thread ``post_uri`` is in: a reply's
    ``reply.root`` (stored first in its references), the post itself when it answers
    nothing; None for a reply whose root was not stored."""
    if references:
        return references[0]
    if not reply_to_uri:
        return post_uri
    return None


def why_brand_cannot_hide(reply_uri: str, root_uri: str, brand_dids: set[str]) -> str | None:
    """Why the brand (any of ``brand_dids``) cannot hide ``reply_uri`` in the thread that
    ``root_uri`` starts, or None. Only the root post's author can hide replies, and the
    root post itself is not a reply."""
    root_did = root_uri.removeprefix("at://").partition("/")[0]
    if root_uri != reply_uri and root_did in brand_dids:
        return None
    reply_did = reply_uri.removeprefix("at://").partition("/")[0]
    starter = "the customer" if root_did == reply_did else f"another account ({root_did})"
    return (
        "Bluesky lets only the author of the thread's first post hide replies; "
        f"this thread was started by {starter}"
    )


def with_reply_hidden(
    record: dict[str, Any], root_uri: str, reply_uri: str, hidden: bool, now: str
) -> dict[str, Any] | None:
    """The threadgate ``record`` with ``reply_uri`` listed (or not) in ``hiddenReplies``;
    None when it already is as asked. SendError past the lexicon's limit."""
    listed = [u for u in record.get("hiddenReplies") or [] if isinstance(u, str)]
    if (reply_uri in listed) == hidden:
        return None
    wanted = [*listed, reply_uri] if hidden else [u for u in listed if u != reply_uri]
    if len(wanted) > MAX_HIDDEN_REPLIES:
        raise SendError(
            SendFailure.PERMANENT,
            f"this thread already hides {len(listed)} replies, Bluesky's limit",
        )
    return {
        **record,
        "$type": THREADGATE_COLLECTION,
        "post": root_uri,
        "createdAt": record.get("createdAt") or now,
        "hiddenReplies": wanted,
    }


class BlueskyThreadgates:
    """The threadgate half of one ``BlueskyConnector`` (it shares the session)."""

    def __init__(self, xrpc: XrpcCall) -> None:
        self._xrpc = xrpc

    async def set_reply_hidden(
        self,
        account: AccountRef,
        did: str,
        root_uri: str,
        reply_uri: str,
        hidden: bool,
        now: str,
    ) -> bool:
        """List (or drop) ``reply_uri`` in the threadgate of ``root_uri`` in repo ``did``.

        The caller has checked that ``did`` wrote ``root_uri``."""
        _repo, _collection, rkey = parse_at_uri(root_uri)
        for _ in range(GATE_TRIES):
            cid, current = await self._read(account, did, rkey)
            record = with_reply_hidden(current, root_uri, reply_uri, hidden, now)
            if record is None:
                return hidden  # already as asked: nothing to write
            try:
                body = await self._xrpc(
                    account,
                    "POST",
                    "com.atproto.repo.putRecord",
                    json_body={
                        "repo": did,
                        "collection": THREADGATE_COLLECTION,
                        "rkey": rkey,
                        "record": record,
                        "swapRecord": cid,
                    },
                )
            except SendError as error:
                if error.code == "InvalidSwap":
                    log.info("bluesky threadgate %s changed meanwhile; reading it again", rkey)
                    continue
                raise
            if not isinstance(body.get("uri"), str) or not isinstance(body.get("cid"), str):
                raise SendError(SendFailure.RETRYABLE, "putRecord returned no uri")
            return hidden
        raise SendError(
            SendFailure.RETRYABLE,
            "the thread's reply settings kept changing while we edited them; try again",
            code="InvalidSwap",
        )

    async def _read(
        self, account: AccountRef, did: str, rkey: str
    ) -> tuple[str | None, dict[str, Any]]:
        """(CID, record) of the threadgate ``rkey`` in the brand's repo; (None, {}) when
        there is none yet (``RecordNotFound``)."""
        params = [("repo", did), ("collection", THREADGATE_COLLECTION), ("rkey", rkey)]
        try:
            got = await self._xrpc(account, "GET", "com.atproto.repo.getRecord", params=params)
        except SendError as error:
            if error.code == "RecordNotFound":
                return None, {}
            raise
        cid, value = got.get("cid"), got.get("value")
        if not isinstance(cid, str) or not isinstance(value, dict):
            raise SendError(SendFailure.RETRYABLE, "getRecord returned no threadgate record")
        return cid, value
