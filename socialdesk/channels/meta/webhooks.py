"""Parsing Meta's webhook bodies: Page feed comments and visitor posts, Messenger,
Instagram comments and DMs (``messaging`` and ``standby``), routed by ``entry[].id``
(spec §2.2). Our own sends come back here too (echoes): they become ``EchoedSend``
records, with the text and target delivery needs to confirm a send whose answer it
lost, never messages. Events the desk leaves alone on purpose (reads, deliveries,
reactions, opt-ins, referrals, likes…) are listed in ``ignored`` by type; the table of
every event and what the desk does with it is docs/channels.md.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from socialdesk.channels.base import (
    AccountRef,
    AccountResolver,
    EchoedSend,
    PayloadError,
    RejectedEvent,
)
from socialdesk.channels.meta.attachments import comment_attachments, dm_attachments
from socialdesk.domain.attachments import Attachment
from socialdesk.domain.enums import Platform, Visibility
from socialdesk.domain.messages import Author, InboundMessage, MessageChange
from socialdesk.domain.timestamps import TimestampError, from_epoch, from_iso

# Feed verbs we act on, and the change each one is to a comment we may already have.
FEED_VERBS: dict[str, MessageChange | None] = {
    "add": None,
    "edited": MessageChange.EDITED,
    "remove": MessageChange.REMOVED,
}
# Feed items that are a post on the Page's timeline: a visitor's opens a ticket.
POST_ITEMS = frozenset({"status", "post", "photo", "video", "share", "link"})
# Feed items, messaging events and change fields that are counted when ignored by their
# own name; anything else is counted as ``other`` (the label set stays small).
KNOWN_FEED_ITEMS = frozenset(
    {"comment", "reaction", "like", "share", "status", "post", "photo", "video", "album"}
    | {"event", "link", "note", "question", "story", "coupon", "hide", "rating"}
)
KNOWN_MESSAGING = (
    "read",
    "delivery",
    "reaction",
    "optin",
    "referral",
    "account_linking",
    "policy_enforcement",
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "app_roles",
    "messaging_feedback",
    "game_play",
    "message_edit",
)
KNOWN_FIELDS = frozenset(
    {"mention", "mentions", "ratings", "conversations", "story_insights", "live_comments"}
    | {"messages", "message_reactions", "messaging_seen", "messaging_referral"}
    | {"messaging_optins", "messaging_postbacks", "message_echoes", "standby"}
    | {"feed", "comments", "videos", "photos", "name", "picture", "leadgen"}
)


def _obj(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def graph_timestamp(value: object, fallback: datetime | None = None) -> datetime:
    """Meta sends seconds in some places and milliseconds in others, and ISO 8601 in
    others still. A missing time is ``fallback`` (when the delivery arrived) if given;
    a value that is no time, or out of range (``1e30``), is refused."""
    if value is None and fallback is not None:
        return fallback
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PayloadError("timestamp is missing")
    try:
        if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
            return from_iso(value.replace("+0000", "+00:00"))
        number = int(value) if isinstance(value, str) else value
        return from_epoch(number, unit=0.001 if number > 100_000_000_000 else 1.0)
    except (TimestampError, ValueError, OverflowError) as exc:  # int("²") is a ValueError
        raise PayloadError(f"bad timestamp: {exc}") from None


def json_object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} is not an object")
    return value


def json_array(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(f"{what} is not an array")
    return value


def string_id(value: object, what: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{what} is missing")
    return value


def rejected_entry(exc: PayloadError, kind: str, entry: object) -> RejectedEvent:
    """A refused entry (or part of one) with a webhook body of its own."""
    body = {"object": kind, "entry": [entry]}
    return RejectedEvent(reason=str(exc), body=json.dumps(body, default=str))


def messaging_type(event: dict[str, Any]) -> str:
    """The name of a messaging event Meta documents (``read``, ``optin``…), else ``other``."""
    return next((key for key in KNOWN_MESSAGING if key in event), "other")


def postback_id(sender: str, event: dict[str, Any], postback: dict[str, Any]) -> str:
    """A postback's ``mid``; a "Get Started" postback comes without one, and is named
    by its sender and time (the same on a redelivery, so it deduplicates)."""
    mid = postback.get("mid")
    if isinstance(mid, str) and mid:
        return mid
    stamp = event.get("timestamp")
    if stamp is None:
        digest = hashlib.sha256(json.dumps(postback, sort_keys=True, default=str).encode())
        stamp = digest.hexdigest()[:16]
    return f"postback.{sender}.{stamp}"


def dm_conversation_id(owner_id: str, customer_id: str) -> str:
    """A DM thread: the customer's page-scoped id, scoped again by our Page/IG id."""
    return f"{owner_id}:{customer_id}"


class EntryParser:
    """Messages and echoes of one ``entry`` element."""

    def __init__(
        self,
        kind: str,
        owner_id: str,
        entry: dict[str, Any],
        resolve_account: AccountResolver,
        received_at: datetime | None = None,
    ) -> None:
        self.kind = kind
        self.owner_id = owner_id
        self.entry = entry
        self.resolve = resolve_account
        # A missing time is when the delivery arrived.
        self.received_at = received_at or datetime.now(UTC)
        self.messages: list[InboundMessage] = []
        self.echoes: list[EchoedSend] = []
        self.rejected: list[RejectedEvent] = []
        self.ignored: list[str] = []
        self.prefix = "instagram" if kind == "instagram" else "messenger"

    def _ignore(self, kind: str) -> None:
        self.ignored.append(kind)

    def _account(self, *platforms: Platform) -> AccountRef | None:
        for platform in platforms:
            account = self.resolve(platform, self.owner_id)
            if account is not None:
                return account
        return None

    def _echo(
        self, platforms: tuple[Platform, ...], message_id: str, text: object, **target: Any
    ) -> None:
        """Our own send seen again: every account connected for this Page / IG account
        (a Page may be connected both as ``facebook`` and as ``messenger``)."""
        accounts = (self.resolve(platform, self.owner_id) for platform in platforms)
        self.echoes.append(
            EchoedSend(
                platform_message_id=message_id,
                account_ids=tuple(a.id for a in accounts if a is not None),
                text=str(text or ""),
                **target,
            )
        )

    def run(self) -> None:
        """Every change and messaging event of the entry, each on its own: one that
        cannot be read is refused (``rejected``) and its neighbours are still read."""
        for change in json_array(self.entry.get("changes", []), "entry.changes"):
            try:
                self._change(json_object(change, "change"))
            except PayloadError as exc:
                self._reject(exc, changes=[change])
        for event in json_array(self.entry.get("messaging", []), "entry.messaging"):
            try:
                self._messaging(json_object(event, "messaging event"))
            except PayloadError as exc:
                self._reject(exc, messaging=[event])
        # Standby: a customer's DM while another app holds the thread (handover
        # protocol); read like a message, so the conversation is never lost.
        for event in json_array(self.entry.get("standby", []), "entry.standby"):
            try:
                self._messaging(json_object(event, "standby event"), standby=True)
            except PayloadError as exc:
                self._reject(exc, standby=[event])

    def _reject(self, exc: PayloadError, **items: list[Any]) -> None:
        entry = {"id": self.owner_id, "time": self.entry.get("time"), **items}
        self.rejected.append(rejected_entry(exc, self.kind, entry))

    def _change(self, change: dict[str, Any]) -> None:
        value = change.get("value")
        field = change.get("field")
        if self.kind == "page" and field == "feed":
            self._feed(json_object(value, "feed value"))
        elif self.kind == "instagram" and field in ("comments", "live_comments"):
            self._ig_comment(json_object(value, "comments value"))
        elif (
            isinstance(field, str)
            and field.startswith("messag")
            and isinstance(value, dict)
            and "sender" in value
        ):
            self._messaging(value)  # newer Instagram-Login deliveries
        else:
            name = field if isinstance(field, str) and field in KNOWN_FIELDS else "other"
            self._ignore(f"{self.prefix if self.kind == 'instagram' else 'facebook'}.{name}")

    def _feed(self, value: dict[str, Any]) -> None:
        verb, item = value.get("verb"), value.get("item")
        if item in POST_ITEMS and isinstance(verb, str) and verb in FEED_VERBS:
            self._visitor_post(value, item, verb)
            return
        if item != "comment" or not isinstance(verb, str) or verb not in FEED_VERBS:
            name = item if isinstance(item, str) and item in KNOWN_FEED_ITEMS else "other"
            suffix = f".{verb}" if item == "comment" and verb in ("hide", "unhide") else ""
            self._ignore(f"facebook.feed.{name}{suffix}")
            return
        comment_id = string_id(value.get("comment_id"), "comment_id")
        # A removal may come without ``from``; the stored comment already names its author.
        if verb == "remove":
            author = _obj(value.get("from"))
            author_id = str(author.get("id") or "")
        else:
            author = json_object(value.get("from"), "comment from")
            author_id = string_id(author.get("id"), "comment from.id")
        post_id = value.get("post_id")
        parent_id = value.get("parent_id") or post_id
        if author_id == self.owner_id:
            if verb == "add":
                self._echo(
                    (Platform.FACEBOOK, Platform.MESSENGER),
                    comment_id,
                    value.get("message"),
                    parent_id=str(parent_id) if parent_id else None,
                )
            return  # the Page's own comment edited or removed: nothing to record
        account = self._account(Platform.FACEBOOK, Platform.MESSENGER)
        if account is None:
            return
        references = (str(post_id),) if post_id and parent_id != post_id else ()
        created = value.get("created_time", self.entry.get("time"))
        change = FEED_VERBS[verb]
        self.messages.append(
            InboundMessage(
                channel_account_id=account.id,
                platform=Platform.FACEBOOK,
                platform_message_id=comment_id,
                author=Author(external_user_id=author_id, display_name=author.get("name")),
                body=str(value.get("message") or ""),
                created_at=graph_timestamp(created, self.received_at),
                visibility=Visibility.PUBLIC,
                reply_to_id=str(parent_id) if parent_id else None,
                references=references,
                extra={"verb": verb, "post_id": post_id, "page_id": self.owner_id},
                attachments=comment_attachments(value),
                change=change,
                # Meta gives no edit time; the entry's time is when the change happened.
                changed_at=(
                    graph_timestamp(self.entry.get("time", created), self.received_at)
                    if change
                    else None
                ),
            )
        )

    def _visitor_post(self, value: dict[str, Any], item: str, verb: str) -> None:
        """A post on the Page's timeline: a visitor's opens a ticket (its comments
        thread under it, ``parent_id`` being the post); edits and removals change it.
        The Page's own posts are not customer messages."""
        post_id = string_id(value.get("post_id"), "post_id")
        author = _obj(value.get("from"))
        author_id = str(author.get("id") or "")
        if author_id == self.owner_id:
            self._ignore("facebook.feed.own_post")
            return
        if verb != "remove" and not author_id:
            raise PayloadError("post from.id is missing")
        account = self._account(Platform.FACEBOOK, Platform.MESSENGER)
        if account is None:
            return
        change = FEED_VERBS[verb]
        created = value.get("created_time", self.entry.get("time"))
        extra: dict[str, object] = {"verb": verb, "item": item, "page_id": self.owner_id}
        for key in ("link", "photo", "photos", "video", "video_id", "published"):
            if value.get(key) is not None:
                extra[key] = value[key]
        self.messages.append(
            InboundMessage(
                channel_account_id=account.id,
                platform=Platform.FACEBOOK,
                platform_message_id=post_id,
                author=Author(external_user_id=author_id, display_name=author.get("name")),
                body=str(value.get("message") or ""),
                created_at=graph_timestamp(created, self.received_at),
                visibility=Visibility.PUBLIC,
                extra=extra,
                attachments=comment_attachments(value),
                change=change,
                changed_at=(
                    graph_timestamp(self.entry.get("time", created), self.received_at)
                    if change
                    else None
                ),
            )
        )

    def _ig_comment(self, value: dict[str, Any]) -> None:
        comment_id = string_id(value.get("id"), "comment id")
        author = json_object(value.get("from"), "comment from")
        author_id = string_id(author.get("id"), "comment from.id")
        media = _obj(value.get("media"))
        media_id = media.get("id")
        parent_id = value.get("parent_id") or media_id
        if author_id == self.owner_id:
            self._echo(
                (Platform.INSTAGRAM,),
                comment_id,
                value.get("text"),
                parent_id=str(parent_id) if parent_id else None,
            )
            return
        account = self._account(Platform.INSTAGRAM)
        if account is None:
            return
        references = (str(media_id),) if media_id and parent_id != media_id else ()
        self.messages.append(
            InboundMessage(
                channel_account_id=account.id,
                platform=Platform.INSTAGRAM,
                platform_message_id=comment_id,
                author=Author(external_user_id=author_id, handle=author.get("username")),
                body=str(value.get("text") or ""),
                created_at=graph_timestamp(self.entry.get("time"), self.received_at),
                visibility=Visibility.PUBLIC,
                reply_to_id=str(parent_id) if parent_id else None,
                references=references,
                extra={
                    "media_id": media_id,
                    "media_product_type": media.get("media_product_type"),
                    "ad_id": media.get("ad_id"),
                },
            )
        )

    def _messaging(self, event: dict[str, Any], standby: bool = False) -> None:
        """One ``messaging`` (or ``standby``) event: a message, an unsend
        (``message.is_deleted``), an edit (``message_edit``) or a postback (with or
        without ``mid``) becomes a message or a change; everything else is ignored by
        type (reads, deliveries, reactions, opt-ins, referrals, handover notices)."""
        message = event.get("message")
        postback = event.get("postback")
        edit = event.get("message_edit")
        if not any(isinstance(part, dict) for part in (message, postback, edit)):
            self._ignore(f"{self.prefix}.{messaging_type(event)}")
            return
        sender = string_id(json_object(event.get("sender"), "sender").get("id"), "sender.id")
        recipient = string_id(
            json_object(event.get("recipient"), "recipient").get("id"), "recipient.id"
        )
        extra: dict[str, object] = {"recipient_id": recipient}
        if standby:
            extra["standby"] = True
        change: MessageChange | None = None
        reply_to_id = None
        attachments: tuple[Attachment, ...] = ()
        if isinstance(message, dict):
            mid = string_id(message.get("mid"), "message.mid")
            if message.get("is_echo") or sender == self.owner_id:
                self._echo_dm(sender, recipient, mid, message)
                return
            body = message.get("text") or ""
            if message.get("is_deleted") is True:
                change, body = MessageChange.REMOVED, ""  # unsend: the stored text stays
            reply_to = message.get("reply_to")
            reply_to_id = reply_to.get("mid") if isinstance(reply_to, dict) else None
            attachments = dm_attachments(message)
            if isinstance(message.get("referral"), dict):
                extra["referral"] = message["referral"]
        elif isinstance(edit, dict):
            if sender == self.owner_id:
                self._ignore(f"{self.prefix}.own_edit")
                return
            mid = string_id(edit.get("mid"), "message_edit.mid")
            body, change = edit.get("text") or "", MessageChange.EDITED
        else:
            postback = _obj(postback)
            mid = postback_id(sender, event, postback)
            body = postback.get("title") or postback.get("payload") or ""
            extra["postback_payload"] = postback.get("payload")
            if isinstance(postback.get("referral"), dict):
                extra["referral"] = postback["referral"]
        if self.kind == "instagram":
            platform = Platform.INSTAGRAM
            account = self._account(Platform.INSTAGRAM)
        else:
            platform = Platform.MESSENGER
            account = self._account(Platform.MESSENGER, Platform.FACEBOOK)
        if account is None:
            return
        created = graph_timestamp(event.get("timestamp", self.entry.get("time")), self.received_at)
        self.messages.append(
            InboundMessage(
                channel_account_id=account.id,
                platform=platform,
                platform_message_id=mid,
                author=Author(external_user_id=sender),
                body=str(body),
                created_at=created,
                visibility=Visibility.PRIVATE,
                reply_to_id=str(reply_to_id) if reply_to_id else None,
                conversation_id=dm_conversation_id(self.owner_id, sender),
                extra=extra,
                attachments=attachments,
                change=change,
                changed_at=created if change else None,
            )
        )

    def _echo_dm(self, sender: str, recipient: str, mid: str, message: dict[str, Any]) -> None:
        """In an echo sender and recipient are swapped: the customer is the recipient."""
        customer = recipient if sender == self.owner_id else sender
        instagram = self.kind == "instagram"
        self._echo(
            (Platform.INSTAGRAM,) if instagram else (Platform.MESSENGER, Platform.FACEBOOK),
            mid,
            message.get("text"),
            recipient_id=customer,
            conversation_id=dm_conversation_id(self.owner_id, customer),
            recipient_platform=Platform.INSTAGRAM if instagram else Platform.MESSENGER,
        )
