"""Finding a Meta send whose answer we lost: Graph has no idempotency key, so a worker
that died between Meta's success and our commit reads back what the account posted.

- A comment reply: the replies under the comment we answered
  (``GET /{comment-id}/comments`` on Facebook, ``GET /{ig-comment-id}/replies`` on
  Instagram). Replies nest one level only, so an answer to a reply sits under its
  top-level comment; there it counts only if it is not older than the comment it
  answers.
- A DM: the conversation with the customer, newest message first
  (``GET /{page-id}/conversations?platform=…&user_id=…&fields=messages.limit(N){…}``).
  Only our messages newer than the customer message we answered count, so an earlier
  answer with the same words is not taken for the lost one.
- A private reply to a comment: Meta allows one per comment and refuses a second with
  code 10900, so it is never looked up before sending; after a 10900 the account's
  recent conversations are searched for our message with the same text sent after
  the comment.

Texts are compared after Unicode NFC and whitespace folding.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialdesk.channels.base import PayloadError, SendError, SendFailure

# Reads a Graph path with query parameters; raises SendError like the send calls.
GraphGet = Callable[[str, Mapping[str, str]], Awaitable[dict[str, Any]]]
Timestamp = Callable[[object], datetime]

# Replies read per comment thread, pages followed, messages read per conversation.
COMMENT_PAGE_SIZE = "100"
MAX_PAGES = 5
DM_MESSAGES = 25
RECENT_CONVERSATIONS = "25"


def same_text(a: str, b: str) -> bool:
    def fold(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).split())

    return fold(a) == fold(b)


@dataclass(frozen=True, slots=True)
class FoundMessage:
    message_id: str
    customer_id: str | None = None


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(body: dict[str, Any]) -> list[dict[str, Any]]:
    data = body.get("data")
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _after(body: dict[str, Any]) -> str | None:
    paging = _obj(body.get("paging"))
    if not paging.get("next"):
        return None
    cursor = _obj(paging.get("cursors")).get("after")
    return str(cursor) if cursor else None


def _when(parse: Timestamp, value: object) -> datetime | None:
    try:
        return parse(value)
    except PayloadError:
        return None


class CommentReplyLookup:
    """Our reply with ``text`` under the comment ``answered`` (Facebook or Instagram)."""

    def __init__(
        self, get: GraphGet, parse_time: Timestamp, owner_ids: set[str], instagram: bool
    ) -> None:
        self.get = get
        self.parse_time = parse_time
        self.owner_ids = owner_ids
        self.instagram = instagram

    @property
    def _edge(self) -> str:
        return "replies" if self.instagram else "comments"

    @property
    def _fields(self) -> str:
        if self.instagram:
            return "id,text,from,username,timestamp"
        return "id,message,from,created_time"

    async def find(self, answered: str, text: str) -> str | None:
        found = await self._search(answered, text, since=None)
        if found is not None:
            return found
        # ``answered`` may be a reply: ours then sits under its top-level comment.
        try:
            node = await self.get(
                f"/{answered}",
                {
                    "fields": "id,timestamp,parent_id"
                    if self.instagram
                    else "id,created_time,parent"
                },
            )
        except SendError as error:
            if error.failure is SendFailure.PERMANENT:
                return None  # a post, or a comment that is gone: nothing more to search
            raise
        parent = node.get("parent_id") if self.instagram else _obj(node.get("parent")).get("id")
        if not parent:
            return None
        since = _when(self.parse_time, node.get("timestamp" if self.instagram else "created_time"))
        return await self._search(str(parent), text, since=since)

    async def _search(self, thread: str, text: str, since: datetime | None) -> str | None:
        params = {"fields": self._fields, "limit": COMMENT_PAGE_SIZE}
        if not self.instagram:
            params["order"] = "reverse_chronological"
        for _ in range(MAX_PAGES):
            body = await self.get(f"/{thread}/{self._edge}", params)
            for reply in _items(body):
                if self._is_ours(reply, text, since):
                    return str(reply["id"])
            after = _after(body)
            if after is None:
                return None
            params = params | {"after": after}
        return None

    def _is_ours(self, reply: dict[str, Any], text: str, since: datetime | None) -> bool:
        if str(_obj(reply.get("from")).get("id") or "") not in self.owner_ids:
            return False
        if not isinstance(reply.get("id"), str):
            return False
        body = reply.get("text") if self.instagram else reply.get("message")
        if not same_text(str(body or ""), text):
            return False
        if since is None:
            return True
        created = _when(
            self.parse_time, reply.get("timestamp" if self.instagram else "created_time")
        )
        return created is None or created >= since


class ConversationLookup:
    """Our DM with ``text`` in the account's conversations (Messenger or Instagram)."""

    def __init__(
        self,
        get: GraphGet,
        parse_time: Timestamp,
        inbox_id: str,
        owner_ids: set[str],
        instagram: bool,
    ) -> None:
        self.get = get
        self.parse_time = parse_time
        self.inbox_id = inbox_id
        self.owner_ids = owner_ids
        self.platform = "instagram" if instagram else "messenger"

    def _params(self, **extra: str) -> dict[str, str]:
        fields = f"messages.limit({DM_MESSAGES}){{id,message,from,to,created_time}}"
        return {"platform": self.platform, "fields": fields} | extra

    async def find_dm(self, customer_id: str, text: str, answered: str | None) -> str | None:
        """Our message newer than the customer message ``answered`` (any, if None)."""
        body = await self.get(f"/{self.inbox_id}/conversations", self._params(user_id=customer_id))
        for conversation in _items(body):
            for message in _items(_obj(conversation.get("messages"))):  # newest first
                if answered is not None and message.get("id") == answered:
                    break  # older than the message we answer: not the lost send
                if self._is_ours(message, text, since=None):
                    return str(message["id"])
        return None

    async def find_private_reply(self, text: str, since: datetime | None) -> FoundMessage | None:
        """Our message with ``text`` sent at or after ``since`` in a recent conversation,
        and the customer it went to."""
        body = await self.get(
            f"/{self.inbox_id}/conversations", self._params(limit=RECENT_CONVERSATIONS)
        )
        for conversation in _items(body):
            for message in _items(_obj(conversation.get("messages"))):
                if self._is_ours(message, text, since):
                    recipients = _items(_obj(message.get("to")))
                    customer = str(recipients[0].get("id")) if recipients else None
                    return FoundMessage(str(message["id"]), customer)
        return None

    def _is_ours(self, message: dict[str, Any], text: str, since: datetime | None) -> bool:
        if str(_obj(message.get("from")).get("id") or "") not in self.owner_ids:
            return False
        if not isinstance(message.get("id"), str):
            return False
        if not same_text(str(message.get("message") or ""), text):
            return False
        if since is None:
            return True
        created = _when(self.parse_time, message.get("created_time"))
        return created is None or created >= since
