"""The Meta emulator's read side and DM store: what a connector reads back to find out
whether a send it lost the answer to went out, and the private replies to comments.

Graph reads (``add_read_routes``), all with the token and error handling of the write
routes and Graph's ``{"data": [...], "paging": {...}}`` lists:

- ``GET /{v}/{comment-or-post-id}/comments?fields=id,message,from,created_time,parent``
  (``order=chronological|reverse_chronological``, ``limit``, ``after``): the replies to
  a Page comment (replies nest one level, so a reply's own list is empty) or a post's
  top-level comments.
- ``GET /{v}/{ig-comment-id}/replies?fields=id,text,from,username,timestamp``.
- ``GET /{v}/{page-or-ig-id|me}/conversations?platform=messenger|instagram``
  ``&user_id=<PSID|IGSID>&fields=messages.limit(N){id,message,from,to,created_time}``:
  newest conversation first, newest message first.
- ``GET /{v}/{id}?fields=…``: a comment, a conversation or a message.

Facebook gives a person a different id on each surface: the commenter's ``from.id`` on
the Page feed is not the page-scoped id (PSID) Messenger uses. The store keeps one PSID
per (Page, person), so a private reply goes to the commenter's PSID and their answer
comes from it. On Instagram the comment's ``from.id`` is already the IGSID.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from socialdesk.channels.meta.emulator_model import Account, Comment, GraphError, MetaState

# A private reply may answer a comment up to this old (spec §2.3).
PRIVATE_REPLY_SECONDS = 7 * 24 * 3600
DEFAULT_LIMIT = 25
MAX_LIMIT = 100

Handler = Callable[[Request, dict[str, Any], Account], Awaitable[dict[str, Any]]]
GraphCall = Callable[[Request, str, Handler], Awaitable[JSONResponse]]


@dataclass
class DirectMessage:
    id: str
    text: str
    from_id: str
    to_id: str
    created: float
    # A sent image (``emulator_media.image_record``): the message has no text then.
    image: dict[str, Any] | None = None


@dataclass
class Conversation:
    id: str
    owner_id: str
    user_id: str  # the customer's PSID or IGSID
    messages: list[DirectMessage] = field(default_factory=list)
    updated: float = 0.0


@dataclass
class MessageStore:
    """Every DM in either direction, by conversation, plus who is who."""

    conversations: dict[tuple[str, str], Conversation] = field(default_factory=dict)
    psids: dict[tuple[str, str], str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    # comment id → the message id of its one private reply.
    private_replies: dict[str, str] = field(default_factory=dict)

    def messaging_id(self, owner: Account, user_id: str, new_id: Callable[[], str]) -> str:
        """The id ``owner``'s inbox knows the person ``user_id`` by."""
        if owner.kind != "page":
            return user_id
        key = (owner.id, user_id)
        if key not in self.psids:
            self.psids[key] = new_id()
            if user_id in self.names:
                self.names[self.psids[key]] = self.names[user_id]
        return self.psids[key]

    def add(self, owner: Account, customer: str, message: DirectMessage) -> None:
        key = (owner.id, customer)
        conversation = self.conversations.get(key)
        if conversation is None:
            prefix = "t_" if owner.kind == "page" else "aWdfZAG06"
            conversation = Conversation(prefix + secrets.token_hex(8), owner.id, customer)
            self.conversations[key] = conversation
        conversation.messages.append(message)
        conversation.updated = message.created

    def find_conversation(self, conversation_id: str) -> Conversation | None:
        return next((c for c in self.conversations.values() if c.id == conversation_id), None)

    def find_message(self, message_id: str) -> tuple[Conversation, DirectMessage] | None:
        for conversation in self.conversations.values():
            for message in conversation.messages:
                if message.id == message_id:
                    return conversation, message
        return None


def graph_time(seconds: float) -> str:
    """Graph's time format: ``2026-11-23T10:15:00+0000``."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def unsupported(object_id: str, verb: str = "get") -> GraphError:
    return GraphError(
        100,
        f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",  # noqa: E501
        33,
        "GraphMethodException",
    )


# -- the ``fields`` parameter -------------------------------------------------------------

FieldSpec = dict[str, tuple[int | None, "FieldSpec"]]
_NAME = re.compile(r"[a-z_]+")
_LIMIT = re.compile(r"\.limit\((\d+)\)")


def parse_fields(text: str) -> FieldSpec:
    """``a,b.limit(5){c,d{e}}`` → ``{"a": (None, {}), "b": (5, {"c": …, "d": …})}``."""
    spec, rest = _parse_fields(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise GraphError(100, f"(#100) Syntax error in fields: {text!r}")
    return spec


def _parse_fields(text: str, at: int) -> tuple[FieldSpec, int]:
    spec: FieldSpec = {}
    while at < len(text):
        name = _NAME.match(text, at)
        if name is None:
            raise GraphError(100, f"(#100) Syntax error in fields: {text!r}")
        at = name.end()
        limit: int | None = None
        if (found := _LIMIT.match(text, at)) is not None:
            limit, at = int(found.group(1)), found.end()
        children: FieldSpec = {}
        if at < len(text) and text[at] == "{":
            children, at = _parse_fields(text, at + 1)
            if at >= len(text) or text[at] != "}":
                raise GraphError(100, f"(#100) Syntax error in fields: {text!r}")
            at += 1
        spec[name.group()] = (limit, children)
        if at < len(text) and text[at] == ",":
            at += 1
        elif at < len(text) and text[at] == "}":
            break
    return spec, at


def pick(node: dict[str, Any], wanted: FieldSpec, default: tuple[str, ...]) -> dict[str, Any]:
    """The requested fields of ``node`` (Graph leaves out fields that have no value)."""
    names = list(wanted) or list(default)
    if "id" not in names:
        names.insert(0, "id")
    unknown = [name for name in names if name not in node and name not in OPTIONAL_FIELDS]
    if unknown:
        raise GraphError(100, f"(#100) Tried accessing nonexisting field ({unknown[0]})")
    return {name: node[name] for name in names if node.get(name) is not None}


# Fields Graph knows on these nodes but that may have no value (a top-level comment has
# no parent).
OPTIONAL_FIELDS = frozenset({"parent", "parent_id"})


def page_of(items: list[dict[str, Any]], params: dict[str, Any], limit: int | None) -> Any:
    """One page of ``items`` with Graph's cursor paging."""
    size = min(MAX_LIMIT, max(1, int(params.get("limit") or limit or DEFAULT_LIMIT)))
    cursor = str(params.get("after") or "")
    try:
        start = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
    except ValueError:
        raise GraphError(100, "(#100) Invalid after cursor") from None
    chunk = items[start : start + size]
    body: dict[str, Any] = {"data": chunk}
    if chunk:

        def encode(offset: int) -> str:
            return base64.urlsafe_b64encode(str(offset).encode()).decode()

        cursors = {"before": encode(start), "after": encode(start + len(chunk))}
        body["paging"] = {"cursors": cursors}
        if start + size < len(items):
            body["paging"]["next"] = f"?limit={size}&after={cursors['after']}"
    return body


# -- nodes as Graph shows them ------------------------------------------------------------


def comment_node(comment: Comment, account: Account) -> dict[str, Any]:
    if account.kind == "page":
        node: dict[str, Any] = {
            "id": comment.id,
            "message": comment.text,
            "from": {"id": comment.author_id, "name": comment.author_name},
            "created_time": graph_time(comment.created),
            "parent": {"id": comment.parent_id} if comment.parent_id else None,
        }
    else:
        node = {
            "id": comment.id,
            "text": comment.text,
            "from": {"id": comment.author_id, "username": comment.author_name},
            "username": comment.author_name,
            "timestamp": graph_time(comment.created),
            "parent_id": comment.parent_id,
        }
    return node


def message_node(message: DirectMessage, store: MessageStore, account: Account) -> dict[str, Any]:
    def person(person_id: str) -> dict[str, str]:
        key = "name" if account.kind == "page" else "username"
        name = account.name if person_id == account.id else store.names.get(person_id, "")
        if account.kind != "page" and person_id == account.id:
            name = account.username
        return {key: name, "id": person_id}

    node: dict[str, Any] = {
        "id": message.id,
        "message": message.text,
        "from": person(message.from_id),
        "to": {"data": [person(message.to_id)]},
        "created_time": graph_time(message.created),
    }
    if message.image is not None:
        url = message.image["url"]
        image = {"mime_type": message.image["mime_type"], "image_data": {"url": url}}
        node["attachments"] = {"data": [{"id": f"{message.id}_1"} | image]}
    return node


def conversation_node(
    conversation: Conversation, store: MessageStore, account: Account, wanted: FieldSpec
) -> dict[str, Any]:
    plain = {name: spec for name, spec in wanted.items() if name != "messages"}
    base = {
        "id": conversation.id,
        "updated_time": graph_time(conversation.updated),
        "message_count": len(conversation.messages),
    }
    node = pick(base, plain, ("updated_time",))
    if "messages" in wanted:
        limit, subfields = wanted["messages"]
        newest_first = [message_node(m, store, account) for m in reversed(conversation.messages)]
        shown = [pick(m, subfields, ("id", "created_time")) for m in newest_first]
        node["messages"] = page_of(shown, {}, limit)
    return node


# -- routes --------------------------------------------------------------------------------


def add_read_routes(
    app: FastAPI, state: MetaState, store: MessageStore, graph_call: GraphCall
) -> None:
    """The GET routes; registered after every ``/_emulator`` route they could shadow."""

    def own_comment(account: Account, comment_id: str, kind: str) -> Comment:
        comment = state.comments.get(comment_id)
        if (
            comment is None
            or comment.deleted
            or comment.owner_id != account.id
            or account.kind != kind
        ):
            raise unsupported(comment_id)
        return comment

    def listing(
        account: Account, params: dict[str, Any], children: list[Comment], default: tuple[str, ...]
    ) -> dict[str, Any]:
        wanted = parse_fields(str(params.get("fields") or ""))
        ordered = sorted(children, key=lambda c: (c.created, c.id))
        if params.get("order") == "reverse_chronological":
            ordered.reverse()
        nodes = [pick(comment_node(c, account), wanted, default) for c in ordered]
        body: dict[str, Any] = page_of(nodes, params, None)
        return body

    @app.get("/{version}/{object_id}/comments")
    async def list_comments(version: str, object_id: str, request: Request) -> JSONResponse:
        async def handler(_r: Request, params: dict[str, Any], account: Account) -> dict[str, Any]:
            if account.kind != "page":
                raise unsupported(object_id)
            if object_id.startswith(account.id + "_") and object_id not in state.comments:
                children = [  # a post: its top-level comments
                    c
                    for c in state.comments.values()
                    if c.object_id == object_id and c.parent_id is None and not c.deleted
                ]
            else:
                own_comment(account, object_id, "page")
                children = [
                    c for c in state.comments.values() if c.parent_id == object_id and not c.deleted
                ]
            return listing(account, params, children, ("created_time", "from", "message"))

        return await graph_call(request, version, handler)

    @app.get("/{version}/{comment_id}/replies")
    async def list_replies(version: str, comment_id: str, request: Request) -> JSONResponse:
        async def handler(_r: Request, params: dict[str, Any], account: Account) -> dict[str, Any]:
            own_comment(account, comment_id, "instagram")
            children = [
                c for c in state.comments.values() if c.parent_id == comment_id and not c.deleted
            ]
            return listing(account, params, children, ("timestamp", "text"))

        return await graph_call(request, version, handler)

    @app.get("/{version}/{owner_id}/conversations")
    async def list_conversations(version: str, owner_id: str, request: Request) -> JSONResponse:
        async def handler(_r: Request, params: dict[str, Any], account: Account) -> dict[str, Any]:
            if owner_id not in ("me", account.id):
                raise unsupported(owner_id)
            platform = params.get("platform")
            expected = "messenger" if account.kind == "page" else "instagram"
            if platform not in ("messenger", "instagram"):
                raise GraphError(100, "(#100) param platform must be one of {MESSENGER, INSTAGRAM}")
            if platform != expected:
                return {"data": []}
            wanted = parse_fields(str(params.get("fields") or ""))
            chosen = [
                c
                for c in store.conversations.values()
                if c.owner_id == account.id
                and (not params.get("user_id") or c.user_id == str(params["user_id"]))
            ]
            chosen.sort(key=lambda c: c.updated, reverse=True)
            nodes = [conversation_node(c, store, account, wanted) for c in chosen]
            body: dict[str, Any] = page_of(nodes, params, None)
            return body

        return await graph_call(request, version, handler)

    @app.get("/{version}/{node_id}")
    async def read_node(version: str, node_id: str, request: Request) -> JSONResponse:
        async def handler(_r: Request, params: dict[str, Any], account: Account) -> dict[str, Any]:
            wanted = parse_fields(str(params.get("fields") or ""))
            if node_id == account.id:
                own = {"id": account.id, "name": account.name}
                if account.kind == "instagram":
                    own["username"] = account.username
                return pick(own, wanted, ("name",))
            comment = state.comments.get(node_id)
            if comment is not None:
                own_comment(account, node_id, account.kind)
                default = ("created_time", "message") if account.kind == "page" else ("text",)
                return pick(comment_node(comment, account), wanted, default)
            conversation = store.find_conversation(node_id)
            if conversation is not None and conversation.owner_id == account.id:
                return conversation_node(conversation, store, account, wanted)
            found = store.find_message(node_id)
            if found is not None and found[0].owner_id == account.id:
                node = message_node(found[1], store, account)
                return pick(node, wanted, ("created_time",))
            raise unsupported(node_id)

        return await graph_call(request, version, handler)


def private_reply(
    state: MetaState,
    store: MessageStore,
    account: Account,
    comment_id: str,
    new_id: Callable[[], str],
) -> str:
    """Check Meta's rules for a private reply to ``comment_id``; the commenter's
    messaging id. The caller records the message (and the comment as answered)."""
    comment = state.comments.get(comment_id)
    if comment is None or comment.deleted or comment.owner_id != account.id:
        raise GraphError(100, "(#100) Invalid comment_id", 2018001)
    if comment.author_id == account.id:
        raise GraphError(100, "(#100) Cannot send a private reply to your own comment")
    if comment_id in store.private_replies:
        raise GraphError(10900, "Activity already replied to", kind="OAuthException")
    if state.core.clock.time() - comment.created > PRIVATE_REPLY_SECONDS:
        # Meta's code for a comment past the 7 days is not documented (unconfirmed).
        raise GraphError(10903, "This activity can't be replied to: it is more than 7 days old")
    store.names.setdefault(comment.author_id, comment.author_name)
    return store.messaging_id(account, comment.author_id, new_id)
