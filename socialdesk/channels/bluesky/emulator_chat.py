"""Bluesky's chat service (DMs) behind the emulated PDS.

The real PDS forwards ``chat.bsky.convo.*`` to ``did:web:api.bsky.chat`` only when the
call names that service in ``atproto-proxy: did:web:api.bsky.chat#bsky_chat``; without
it the call is rejected (400 ``InvalidRequest``). Calls are authenticated like the
rest of the PDS (an expired token is 400 ``ExpiredToken``) and carry their own
``RateLimit-*`` headers.

XRPC
- ``chat.bsky.convo.getLog?cursor`` — the account's event log after ``cursor`` (a rev),
  oldest first, ``page_size`` entries a page (default 50); ``cursor`` in the answer is
  the rev of the last entry returned (the same cursor again when nothing is new).
  Entries: ``#logBeginConvo`` and ``#logCreateMessage`` with ``message`` = messageView.
- ``chat.bsky.convo.getConvo?convoId``, ``getConvoForMembers?members=<did>`` (creates the
  1:1 convo; 400 ``RecipientNotFound``/``MessagesDisabled``),
  ``getMessages?convoId&limit&cursor`` (newest first).
- ``chat.bsky.convo.sendMessage {"convoId","message":{"text","facets"?}}`` — ≤ 1000
  graphemes and 10000 UTF-8 bytes; returns the messageView.
- An app password made without DM access (``dm_access=False``): 400 ``InvalidToken``
  "Bad token scope".

Control API (``/_emulator``)
- ``POST /customer/dm`` ``{"handle", "display_name"?, "text"}`` — the customer writes to
  the brand (the convo is created on first use). Returns ``{"convo_id", "message_id",
  "rev"}``.
- ``POST /customer/dm_settings`` ``{"handle", "allow_incoming": "all"|"none"}``.
- ``GET /convos`` — every convo with its members and messages.
- ``POST /rate_limit`` with ``"service": "chat"`` sets the chat window.
- ``GET /sent`` lists ``sendMessage`` calls next to the posts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

if TYPE_CHECKING:
    from socialdesk.channels.bluesky.emulator import BlueskyEmulator, _Profile

CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
MAX_DM_GRAPHEMES = 1000
MAX_DM_BYTES = 10_000
_DEFS = "chat.bsky.convo.defs"


@dataclass
class ChatMessage:
    id: str
    rev: str
    convo_id: str
    sender: str
    text: str
    sent_at: datetime
    facets: list[Any] | None = None


@dataclass
class Convo:
    id: str
    members: tuple[str, ...]
    rev: str
    messages: list[ChatMessage] = field(default_factory=list)


@dataclass
class LogEntry:
    rev: str
    convo_id: str
    kind: str  # "logBeginConvo" | "logCreateMessage"
    message: ChatMessage | None = None


@dataclass
class ChatState:
    convos: dict[str, Convo] = field(default_factory=dict)
    log: list[LogEntry] = field(default_factory=list)
    page_size: int = 50
    dms_disabled: set[str] = field(default_factory=set)

    def convo_for(self, emu: BlueskyEmulator, dids: set[str]) -> Convo:
        members = tuple(sorted(dids))
        for convo in self.convos.values():
            if convo.members == members:
                return convo
        rev = emu.tid()
        convo = Convo(emu.tid(), members, rev)
        self.convos[convo.id] = convo
        self.log.append(LogEntry(rev, convo.id, "logBeginConvo"))
        return convo

    def add_message(
        self,
        emu: BlueskyEmulator,
        convo: Convo,
        sender: str,
        text: str,
        facets: list[Any] | None = None,
    ) -> ChatMessage:
        message = ChatMessage(emu.tid(), emu.tid(), convo.id, sender, text, emu.now(), facets)
        convo.messages.append(message)
        convo.rev = message.rev
        self.log.append(LogEntry(message.rev, convo.id, "logCreateMessage", message))
        return message


def message_view(message: ChatMessage, iso: Callable[[datetime], str]) -> dict[str, Any]:
    view: dict[str, Any] = {
        "$type": f"{_DEFS}#messageView",
        "id": message.id,
        "rev": message.rev,
        "text": message.text,
        "sender": {"did": message.sender},
        "sentAt": iso(message.sent_at),
    }
    if message.facets:
        view["facets"] = message.facets
    return view


def register_chat_routes(
    app: FastAPI,
    emu: BlueskyEmulator,
    *,
    authorize: Callable[[Request, str, Any], tuple[_Profile, dict[str, str]]],
    error: Callable[..., JSONResponse],
    json_input: Callable[[Request], Any],
    grapheme_count: Callable[[str], int],
    iso: Callable[[datetime], str],
) -> None:
    """Add the chat endpoints and their control routes to the PDS app."""
    chat: ChatState = emu.chat

    def chat_caller(request: Request, nsid: str) -> tuple[_Profile, dict[str, str]] | Response:
        if request.headers.get("atproto-proxy") != CHAT_PROXY:
            # What a PDS does with a chat call it was not told where to forward.
            return error(
                400,
                "InvalidRequest",
                f"No service configured for {nsid}: set the atproto-proxy header ({CHAT_PROXY})",
            )
        me, headers = authorize(request, nsid, emu.chat_window)
        if not emu.dm_access:
            return error(400, "InvalidToken", "Bad token scope", headers)
        return me, headers

    def convo_view(convo: Convo, me: str) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": convo.id,
            "rev": convo.rev,
            "members": [emu.profile_json(emu.profiles[did]) for did in convo.members],
            "muted": False,
            "status": "accepted",
            "unreadCount": sum(1 for m in convo.messages if m.sender != me),
        }
        if convo.messages:
            view["lastMessage"] = message_view(convo.messages[-1], iso)
        return view

    def own_convo(convo_id: str, me: str) -> Convo | None:
        convo = chat.convos.get(convo_id)
        return convo if convo is not None and me in convo.members else None

    @app.get("/xrpc/chat.bsky.convo.getLog")
    async def get_log(request: Request) -> Response:
        caller = chat_caller(request, "chat.bsky.convo.getLog")
        if isinstance(caller, Response):
            return caller
        me, headers = caller
        cursor = request.query_params.get("cursor") or ""
        visible = [
            e
            for e in chat.log
            if me.did in chat.convos[e.convo_id].members and (not cursor or e.rev > cursor)
        ]
        page = visible[: chat.page_size]
        logs = []
        for entry in page:
            item: dict[str, Any] = {
                "$type": f"{_DEFS}#{entry.kind}",
                "rev": entry.rev,
                "convoId": entry.convo_id,
            }
            if entry.message is not None:
                item["message"] = message_view(entry.message, iso)
            logs.append(item)
        body: dict[str, Any] = {"logs": logs}
        if page or cursor:
            body["cursor"] = page[-1].rev if page else cursor
        return JSONResponse(body, headers=headers)

    @app.get("/xrpc/chat.bsky.convo.getConvo")
    async def get_convo(request: Request) -> Response:
        caller = chat_caller(request, "chat.bsky.convo.getConvo")
        if isinstance(caller, Response):
            return caller
        me, headers = caller
        convo = own_convo(request.query_params.get("convoId", ""), me.did)
        if convo is None:
            return error(400, "InvalidConvo", "Convo not found", headers)
        return JSONResponse({"convo": convo_view(convo, me.did)}, headers=headers)

    @app.get("/xrpc/chat.bsky.convo.getConvoForMembers")
    async def get_convo_for_members(request: Request) -> Response:
        caller = chat_caller(request, "chat.bsky.convo.getConvoForMembers")
        if isinstance(caller, Response):
            return caller
        me, headers = caller
        members = set(request.query_params.getlist("members")) | {me.did}
        if not 2 <= len(members) <= 10:
            return error(400, "InvalidRequest", "Error: members must name another account", headers)
        for did in members:
            if did not in emu.profiles:
                return error(400, "RecipientNotFound", "recipient not found", headers)
            if did in chat.dms_disabled and did != me.did:
                return error(
                    400, "MessagesDisabled", "recipient has disabled incoming messages", headers
                )
        convo = chat.convo_for(emu, members)
        return JSONResponse({"convo": convo_view(convo, me.did)}, headers=headers)

    @app.get("/xrpc/chat.bsky.convo.getMessages")
    async def get_messages(request: Request) -> Response:
        caller = chat_caller(request, "chat.bsky.convo.getMessages")
        if isinstance(caller, Response):
            return caller
        me, headers = caller
        query = request.query_params
        convo = own_convo(query.get("convoId", ""), me.did)
        if convo is None:
            return error(400, "InvalidConvo", "Convo not found", headers)
        try:
            limit = int(query.get("limit", "50"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            return error(400, "InvalidRequest", "Error: limit must be between 1 and 100", headers)
        cursor = query.get("cursor") or ""
        older = [m for m in reversed(convo.messages) if not cursor or m.rev < cursor]
        page = older[:limit]
        body: dict[str, Any] = {"messages": [message_view(m, iso) for m in page]}
        if len(older) > limit:
            body["cursor"] = page[-1].rev
        return JSONResponse(body, headers=headers)

    @app.post("/xrpc/chat.bsky.convo.sendMessage")
    async def send_message(request: Request) -> Response:
        caller = chat_caller(request, "chat.bsky.convo.sendMessage")
        if isinstance(caller, Response):
            return caller
        me, headers = caller
        body = await json_input(request)
        convo = own_convo(str(body.get("convoId") or ""), me.did)
        if convo is None:
            return error(400, "InvalidConvo", "Convo not found", headers)
        message = body.get("message")
        text = message.get("text") if isinstance(message, dict) else None
        prefix = "Invalid chat.bsky.convo.sendMessage input: "
        if not isinstance(text, str):
            return error(
                400, "InvalidRequest", prefix + 'message must have the property "text"', headers
            )
        if grapheme_count(text) > MAX_DM_GRAPHEMES:
            return error(
                400,
                "InvalidRequest",
                prefix + f"message/text must not be longer than {MAX_DM_GRAPHEMES} graphemes",
                headers,
            )
        if len(text.encode()) > MAX_DM_BYTES:
            return error(
                400,
                "InvalidRequest",
                prefix + f"message/text must not be longer than {MAX_DM_BYTES} characters",
                headers,
            )
        others = set(convo.members) - {me.did}
        if others & chat.dms_disabled:
            return error(
                400, "MessagesDisabled", "recipient has disabled incoming messages", headers
            )
        facets = message.get("facets") if isinstance(message, dict) else None
        sent = chat.add_message(emu, convo, me.did, text, facets if facets else None)
        emu.sent.append(
            {
                "endpoint": "chat.bsky.convo.sendMessage",
                "body": body,
                "convo_id": convo.id,
                "message_id": sent.id,
                "recipients": sorted(others),
            }
        )
        return JSONResponse(message_view(sent, iso), headers=headers)

    # -- control API -------------------------------------------------------------------

    @app.post("/_emulator/customer/dm")
    async def customer_dm(request: Request) -> dict[str, str]:
        body = await request.json()
        author = emu.profile(
            str(body.get("handle") or "customer.bsky.social"), body.get("display_name")
        )
        convo = chat.convo_for(emu, {author.did, emu.brand.did})
        sent = chat.add_message(emu, convo, author.did, str(body.get("text") or ""))
        return {"convo_id": convo.id, "message_id": sent.id, "rev": sent.rev}

    @app.post("/_emulator/customer/dm_settings")
    async def customer_dm_settings(request: Request) -> dict[str, str]:
        body = await request.json()
        author = emu.profile(str(body.get("handle") or "customer.bsky.social"))
        allow = str(body.get("allow_incoming") or "all")
        if allow == "none":
            chat.dms_disabled.add(author.did)
        else:
            chat.dms_disabled.discard(author.did)
        return {"did": author.did, "allow_incoming": allow}

    @app.get("/_emulator/convos")
    async def convos() -> list[dict[str, Any]]:
        return [
            {
                "id": c.id,
                "members": list(c.members),
                "messages": [message_view(m, iso) for m in c.messages],
            }
            for c in chat.convos.values()
        ]
