"""Bluesky direct messages (``chat.bsky.convo.*``) for the Bluesky connector.

DMs do not live on the PDS: the PDS forwards a call to Bluesky's chat service when it
carries ``atproto-proxy: did:web:api.bsky.chat#bsky_chat`` (wire format:
../shared/specs/social-platform-apis.md §4). The session, token refresh and error
classification are the connector's (``BlueskyConnector._xrpc``); this module adds what
is particular to chat:

- reading the account's event log (``getLog``) forward from a stored ``rev`` cursor,
  turning ``logCreateMessage`` entries into private ``InboundMessage``s with
  ``conversation_id`` = the convo id;
- sending into a convo (``sendMessage``), opening one with a customer first
  (``getConvoForMembers``) when the reply has no convo yet (move to private);
- the poll cursor, which carries both the notification position and the chat ``rev``.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from socialdesk.channels.base import (
    AccountRef,
    OutboundRequest,
    SendError,
    SendFailure,
    SendResult,
)
from socialdesk.channels.bluesky.attachments import embed_attachments
from socialdesk.channels.bluesky.notifications import parse_time
from socialdesk.domain.enums import Direction, Platform, Visibility
from socialdesk.domain.length_rules import check_length
from socialdesk.domain.messages import Author, InboundMessage

log = logging.getLogger(__name__)

CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
CHAT_HEADERS: Mapping[str, str] = {"atproto-proxy": CHAT_PROXY}
LOG_CREATE_MESSAGE = "chat.bsky.convo.defs#logCreateMessage"
DELETED_MESSAGE_VIEW = "chat.bsky.convo.defs#deletedMessageView"
# The chat rev rides behind the notification cursor: ``"<indexedAt>|<uri> dm:<rev>"``.
# Neither part contains a space, and a cursor stored before DMs existed still parses.
_DM_MARK = " dm:"
# A first poll (no chat rev yet) reads the whole log to learn where it ends, but only
# the last day of it becomes tickets: connecting an account must not reopen old DMs.
FIRST_POLL_BACKFILL = timedelta(days=1)
_MEMBER_CACHE = 2000

# Chat errors the agent can act on, by XRPC error name (never by message text).
_CHAT_REASONS = {
    "MessagesDisabled": "the customer does not accept direct messages",
    "NotFollowedBySender": "the customer only accepts direct messages from people they follow",
    "BlockedActor": "the customer has blocked this account",
    "BlockedSubject": "this account has blocked the customer",
    "RecipientNotFound": "the customer's Bluesky account was not found",
    "AccountSuspended": "the account is suspended from direct messages",
    "InvalidConvo": "the conversation no longer exists or we are not in it",
    "ConvoLocked": "the conversation is locked",
}


class XrpcCall(Protocol):
    """``BlueskyConnector._xrpc``: one authenticated call, refreshed and retried once
    on ``ExpiredToken``, errors raised as classified ``SendError``s."""

    def __call__(
        self,
        account: AccountRef,
        method: str,
        nsid: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        json_body: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Awaitable[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class Member:
    did: str
    handle: str | None = None
    display_name: str | None = None


def split_cursor(cursor: str | None) -> tuple[str | None, str | None]:
    """A stored poll cursor → (notification cursor, chat rev)."""
    if not cursor:
        return None, None
    notifications, mark, rev = cursor.partition(_DM_MARK)
    if not mark:
        return cursor, None
    return notifications or None, rev or None


def join_cursor(notifications: str | None, rev: str | None) -> str | None:
    if not rev:
        return notifications
    return f"{notifications or ''}{_DM_MARK}{rev}"


def parse_log_entry(
    account: AccountRef,
    entry: Mapping[str, Any],
    own_dids: set[str],
    members: Mapping[str, Member] | None = None,
) -> InboundMessage | None:
    """A ``logCreateMessage`` from a customer → a private ``InboundMessage``.

    Our own messages come back through the log too (sent from socialdesk or from the
    Bluesky app); they are dropped here, so an echo never becomes a second message, even
    when it is read before the delivery worker has recorded the id it sent."""
    if entry.get("$type") != LOG_CREATE_MESSAGE:
        return None
    message = entry.get("message")
    convo_id = entry.get("convoId")
    if not isinstance(message, dict) or not isinstance(convo_id, str):
        return None
    text = message.get("text")
    message_id = message.get("id")
    sender = message.get("sender")
    did = sender.get("did") if isinstance(sender, dict) else None
    if (
        message.get("$type") == DELETED_MESSAGE_VIEW
        or not isinstance(text, str)
        or not isinstance(message_id, str)
        or not isinstance(did, str)
        or did in own_dids
    ):
        return None
    member = (members or {}).get(did) or Member(did)
    return InboundMessage(
        channel_account_id=account.id,
        platform=Platform.BLUESKY,
        platform_message_id=message_id,
        author=Author(external_user_id=did, handle=member.handle, display_name=member.display_name),
        body=text,
        created_at=parse_time(message.get("sentAt")) or datetime.now(UTC),
        direction=Direction.INBOUND,
        visibility=Visibility.PRIVATE,
        conversation_id=convo_id,
        extra={"rev": entry.get("rev"), "message_rev": message.get("rev"), "chat": True},
        attachments=embed_attachments(message.get("embed"), did),
    )


def _explain(error: SendError) -> SendError:
    """A clearer reason for the chat errors an agent can do something about."""
    if error.code == "InvalidToken" and "scope" in error.reason.lower():
        # An app password made without "Allow access to your direct messages".
        return SendError(
            SendFailure.AUTH_REVOKED,
            "the app password does not allow direct messages: create one with DM access "
            "or set the account's settings.direct_messages to false",
            code=error.code,
        )
    reason = _CHAT_REASONS.get(error.code or "")
    if reason is None:
        return error
    return SendError(error.failure, f"{reason} ({error.code})", code=error.code)


class BlueskyChat:
    """The chat half of one ``BlueskyConnector`` (it shares the session and limits)."""

    def __init__(self, xrpc: XrpcCall, *, max_pages: int = 100) -> None:
        self._xrpc = xrpc
        self.max_pages = max_pages
        # convo id → its members, learned from getConvo/getConvoForMembers.
        self._members: OrderedDict[str, dict[str, Member]] = OrderedDict()

    async def _call(
        self,
        account: AccountRef,
        method: str,
        nsid: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        json_body: Mapping[str, object] | None = None,
    ) -> dict[str, Any]:
        try:
            return await self._xrpc(
                account, method, nsid, params=params, json_body=json_body, headers=CHAT_HEADERS
            )
        except SendError as error:
            raise _explain(error) from None

    # -- reading -----------------------------------------------------------------------

    async def poll(
        self, account: AccountRef, rev: str | None, own_dids: set[str]
    ) -> tuple[list[InboundMessage], str | None]:
        """Customer messages logged after ``rev``, oldest first, and the new rev.

        Pages forward until the log has nothing more (an empty page or a cursor that
        does not move). Without ``rev`` the log is read from its start, keeping only
        the last ``FIRST_POLL_BACKFILL`` of messages."""
        entries: list[dict[str, Any]] = []
        cursor = rev
        for _ in range(self.max_pages):
            params = [("cursor", cursor)] if cursor else []
            body = await self._call(account, "GET", "chat.bsky.convo.getLog", params=params)
            logs = [e for e in body.get("logs") or [] if isinstance(e, dict)]
            entries.extend(logs)
            following = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            if not logs or not following or following == cursor:
                cursor = following or cursor
                break
            cursor = following
        else:
            log.warning(
                "bluesky chat log of account %s stopped after %d pages", account.id, self.max_pages
            )
        oldest = datetime.now(UTC) - FIRST_POLL_BACKFILL
        kept = [
            (entry, message)
            for entry in entries
            if (message := parse_log_entry(account, entry, own_dids)) is not None
            and (rev is not None or message.created_at >= oldest)
        ]
        await self._learn_members(account, {m.conversation_id or "" for _, m in kept} - {""})
        messages = []
        for entry, message in kept:
            members = self._members.get(message.conversation_id or "")
            messages.append(parse_log_entry(account, entry, own_dids, members) or message)
        return messages, cursor

    async def _learn_members(self, account: AccountRef, convo_ids: set[str]) -> None:
        """Handles and names of the customers writing, once per convo: a log entry
        carries only the sender's DID."""
        wanted = {c for c in convo_ids if c not in self._members}
        for convo_id in sorted(wanted):
            try:
                body = await self._call(
                    account, "GET", "chat.bsky.convo.getConvo", params=[("convoId", convo_id)]
                )
            except SendError as error:
                if error.failure is not SendFailure.PERMANENT:
                    raise
                # Unknown names are not worth losing the message over: the DID suffices.
                log.warning("bluesky getConvo %s failed: %s", convo_id, error.code)
                continue
            self._remember(body.get("convo"))

    def _remember(self, convo: object) -> str | None:
        if not isinstance(convo, dict) or not isinstance(convo.get("id"), str):
            return None
        members = {}
        for item in convo.get("members") or []:
            if isinstance(item, dict) and isinstance(item.get("did"), str):
                members[item["did"]] = Member(
                    item["did"],
                    str(item.get("handle") or "") or None,
                    str(item.get("displayName") or "") or None,
                )
        convo_id = str(convo["id"])
        self._members[convo_id] = members
        self._members.move_to_end(convo_id)
        while len(self._members) > _MEMBER_CACHE:
            self._members.popitem(last=False)
        return convo_id

    # -- sending -----------------------------------------------------------------------

    async def open_convo(self, account: AccountRef, did: str) -> str:
        """The 1:1 convo with ``did`` (Bluesky creates it on first use)."""
        body = await self._call(
            account, "GET", "chat.bsky.convo.getConvoForMembers", params=[("members", did)]
        )
        convo_id = self._remember(body.get("convo"))
        if convo_id is None:
            raise SendError(SendFailure.RETRYABLE, "getConvoForMembers returned no convo")
        return convo_id

    async def find_sent(
        self, account: AccountRef, request: OutboundRequest, own_dids: set[str]
    ) -> SendResult | None:
        """Our message with this text in the request's convo, sent after the customer's
        message it answers: a worker that died after ``sendMessage`` succeeded finds it
        here instead of sending it again (chat has no idempotency key)."""
        convo_id = request.conversation_id
        if not convo_id and request.recipient_id:
            convo_id = await self.open_convo(account, request.recipient_id)  # same 1:1 convo
        if not convo_id:
            return None
        body = await self._call(
            account,
            "GET",
            "chat.bsky.convo.getMessages",
            params=[("convoId", convo_id), ("limit", "50")],
        )
        for message in body.get("messages") or []:  # newest first
            if not isinstance(message, dict):
                continue
            if message.get("id") == request.in_reply_to_id:
                break  # older than what we answer: an earlier answer with the same words
            sender = message.get("sender")
            if (
                isinstance(sender, dict)
                and sender.get("did") in own_dids
                and message.get("text") == request.body
                and isinstance(message.get("id"), str)
            ):
                return SendResult(
                    platform_message_id=message["id"],
                    conversation_id=convo_id,
                    sent_at=parse_time(message.get("sentAt")),
                )
        return None

    async def send(
        self, account: AccountRef, request: OutboundRequest, facets: list[dict[str, Any]]
    ) -> SendResult:
        """One DM into the request's convo, or a new convo with ``recipient_id``."""
        fit = check_length(request.body, Platform.BLUESKY, visibility=Visibility.PRIVATE)
        if not fit.fits:
            raise SendError(
                SendFailure.PERMANENT,
                f"too long for a Bluesky DM: {fit.length} of {fit.limit} {fit.unit}",
            )
        convo_id = request.conversation_id
        if not convo_id:
            if not request.recipient_id:
                raise SendError(
                    SendFailure.PERMANENT, "a Bluesky DM needs a conversation or a recipient DID"
                )
            convo_id = await self.open_convo(account, request.recipient_id)
        message: dict[str, Any] = {"text": request.body}
        if facets:
            message["facets"] = facets
        body = await self._call(
            account,
            "POST",
            "chat.bsky.convo.sendMessage",
            json_body={"convoId": convo_id, "message": message},
        )
        message_id = body.get("id")
        if not isinstance(message_id, str):
            raise SendError(SendFailure.RETRYABLE, "sendMessage returned no message id")
        return SendResult(
            platform_message_id=message_id,
            conversation_id=convo_id,
            sent_at=parse_time(body.get("sentAt")),
        )
