"""X Account Activity webhook bodies (v1.1 shapes) turned into messages, echoes of our
own sends and revocations. Signature checks and the HTTP calls are in ``channels/x/connector.py``;
the same messages read by polling are in ``channels/x/polling.py``."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

from socialdesk.channels.base import (
    AccountRef,
    AccountResolver,
    ParsedEvent,
    PayloadError,
    RejectedEvent,
    refuse_if_nothing_read,
)
from socialdesk.channels.x.attachments import dm_attachments, tweet_attachments
from socialdesk.channels.x.polling import dm_conversation_id
from socialdesk.domain.enums import Platform, Visibility
from socialdesk.domain.messages import Author, InboundMessage, MessageChange
from socialdesk.domain.timestamps import TimestampError, from_epoch, in_range

# Account Activity arrays carrying nothing to answer: counted as ignored, by type.
IGNORED_ARRAYS = {
    "favorite_events": "x.favorite",
    "follow_events": "x.follow",
    "block_events": "x.block",
    "mute_events": "x.mute",
    "direct_message_indicate_typing_events": "x.dm_typing",
    "direct_message_mark_read_events": "x.dm_read",
}


def _obj(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def parse_v1_created_at(value: str) -> datetime:
    """``Mon May 19 14:01:46 +0000 2025`` → aware UTC datetime (``ValueError`` when it is
    not one or lies outside ``domain.timestamps``' range)."""
    return in_range(datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y"))


def _from_ms(value: object, what: str) -> datetime:
    try:
        return from_epoch(value, unit=0.001)
    except TimestampError as exc:
        raise PayloadError(f"{what}: {exc}") from None


def _id_str(obj: dict[str, Any], what: str) -> str:
    """``id_str``, else the numeric ``id`` (older and hand-built bodies carry only it)."""
    value = obj.get("id_str")
    if value is None and isinstance(obj.get("id"), int) and not isinstance(obj["id"], bool):
        value = str(obj["id"])
    return _require_str(value, what)


def _any_id(value: object, what: str) -> str:
    """An id X sends as a string or (in older bodies) as a number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _require_str(value, what)


def _require_dict(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} is not an object")
    return value


def _require_list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(f"{what} is not an array")
    return value


def _require_str(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{what} is missing or not a string")
    return value


def parse_account_activity(
    raw_body: bytes,
    resolve_account: AccountResolver,
    app_id: str | None,
    received_at: datetime | None = None,
) -> ParsedEvent:
    """One Account Activity body → messages, echoes and revocations.

    ``app_id`` is our X app id: DMs whose ``source_app_id`` is ours are echoes. A
    deleted tweet removes the stored message. Like, follow, block, mute, typing and read
    arrays, and retweets, carry nothing to answer and are ignored by type (``ignored``).
    A tweet or DM that cannot be read is refused on its own (``ParsedEvent.rejected``,
    with a body of just that event); its neighbours still become messages. A missing
    time falls back to ``received_at`` (when the delivery arrived)."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: nested deeper than the json module can read (hooks refuse
        # those at the door; a stored or replayed body may still hold one).
        raise PayloadError(f"body is not JSON: {exc}") from None
    payload = _require_dict(payload, "body")
    user_event = payload.get("user_event")
    if payload.get("for_user_id") is None and isinstance(user_event, dict):
        return _user_event(user_event, resolve_account, None)
    for_user_id = _require_str(payload.get("for_user_id"), "for_user_id")
    account = resolve_account(Platform.X, for_user_id)
    if account is None:
        return ParsedEvent(messages=[])
    ignored: list[str] = []
    for key, kind in IGNORED_ARRAYS.items():
        events = payload.get(key)
        ignored.extend([kind] * len(events) if isinstance(events, list) else [])
    fallback_time = received_at or datetime.now(UTC)
    messages: list[InboundMessage] = []
    echoes: list[str] = []
    revoked: list[int] = []
    rejected: list[RejectedEvent] = []
    for tweet in _require_list(payload.get("tweet_create_events", []), "tweet_create_events"):
        try:
            tweet_obj = _require_dict(tweet, "tweet")
            parsed = _parse_tweet(tweet_obj, account, for_user_id, fallback_time)
        except PayloadError as exc:
            rejected.append(_rejected(exc, for_user_id, tweet_create_events=[tweet]))
            continue
        if isinstance(parsed, InboundMessage):
            messages.append(parsed)
        elif parsed is not None:
            echoes.append(parsed)
        else:
            ignored.append("x.retweet")
    for deleted in _require_list(payload.get("tweet_delete_events", []), "tweet_delete_events"):
        try:
            removal = _tweet_delete(_require_dict(deleted, "tweet delete"), account, fallback_time)
        except PayloadError as exc:
            rejected.append(_rejected(exc, for_user_id, tweet_delete_events=[deleted]))
            continue
        if removal is None or removal.author.external_user_id == for_user_id:
            ignored.append("x.tweet_delete.own")
        else:
            messages.append(removal)
    users = payload.get("users") or {}
    if not isinstance(users, dict):
        raise PayloadError("users is not an object")
    dm_events = _require_list(payload.get("direct_message_events", []), "direct_message_events")
    for event in dm_events:
        try:
            dm = _parse_dm(
                _require_dict(event, "direct message event"),
                account,
                for_user_id,
                users,
                app_id,
                fallback_time,
            )
        except PayloadError as exc:
            rejected.append(_rejected(exc, for_user_id, direct_message_events=[event], users=users))
            continue
        if isinstance(dm, InboundMessage):
            messages.append(dm)
        elif dm is not None:
            echoes.append(dm)
        else:
            ignored.append("x.dm_event")
    if user_event is not None:
        event = _user_event(_require_dict(user_event, "user_event"), resolve_account, account)
        revoked.extend(event.revoked_account_ids)
        ignored.extend(event.ignored)
    return refuse_if_nothing_read(
        ParsedEvent(
            messages=messages,
            echoed_message_ids=echoes,
            revoked_account_ids=revoked,
            rejected=rejected,
            ignored=ignored,
        )
    )


def _user_event(
    user_event: dict[str, Any], resolve_account: AccountResolver, account: AccountRef | None
) -> ParsedEvent:
    """A ``user_event``: a ``revoke`` takes the account to ``needs_reauth``. X documents
    it without ``for_user_id``: ``{"user_event": {"revoke": {"date_time": …, "target":
    {"app_id": …}, "source": {"user_id": …}}}}``; the user who revoked is the source."""
    revoke = user_event.get("revoke")
    if revoke is None:
        return ParsedEvent(messages=[], ignored=["x.user_event"])
    if account is None:
        source = _require_dict(_require_dict(revoke, "revoke").get("source"), "revoke.source")
        user_id = _any_id(source.get("user_id"), "revoke.source.user_id")
        account = resolve_account(Platform.X, user_id)
        if account is None:
            return ParsedEvent(messages=[])  # not an account of ours
    return ParsedEvent(messages=[], revoked_account_ids=[account.id])


def _tweet_delete(
    event: dict[str, Any], account: AccountRef, fallback_time: datetime
) -> InboundMessage | None:
    """A deleted tweet: a removal of the stored message (nothing when we never stored
    it; the pipeline creates no message from a removal)."""
    status = _require_dict(event.get("status"), "tweet delete status")
    tweet_id = _any_id(status.get("id_str", status.get("id")), "tweet delete status.id")
    user_id = _any_id(
        status.get("user_id_str", status.get("user_id")), "tweet delete status.user_id"
    )
    at = (
        fallback_time
        if event.get("timestamp_ms") is None
        else _from_ms(event["timestamp_ms"], "tweet delete timestamp_ms")
    )
    return InboundMessage(
        channel_account_id=account.id,
        platform=Platform.X,
        platform_message_id=tweet_id,
        author=Author(external_user_id=user_id),
        body="",
        created_at=at,
        visibility=Visibility.PUBLIC,
        extra={"source": "webhook"},
        change=MessageChange.REMOVED,
        changed_at=at,
    )


def _rejected(exc: PayloadError, for_user_id: str, **event: Any) -> RejectedEvent:
    """A refused event with an Account Activity body of its own."""
    return RejectedEvent(
        reason=str(exc), body=json.dumps({"for_user_id": for_user_id, **event}, default=str)
    )


def _parse_tweet(
    tweet: dict[str, Any], account: AccountRef, for_user_id: str, fallback_time: datetime
) -> InboundMessage | str | None:
    tweet_id = _id_str(tweet, "tweet id_str")
    user = _require_dict(tweet.get("user"), "tweet user")
    user_id = _id_str(user, "tweet user.id_str")
    if user_id == for_user_id:
        return tweet_id  # our own tweet: an echo of a send or a post from X's app
    if "retweeted_status" in tweet:
        return None  # a retweet of someone's post, not a message to answer
    extended = tweet.get("extended_tweet")
    text: object = tweet.get("text", "")
    if isinstance(extended, dict) and isinstance(extended.get("full_text"), str):
        text = extended["full_text"]
    if not isinstance(text, str):
        raise PayloadError("tweet text is not a string")
    if tweet.get("timestamp_ms") is not None:
        created_at = _from_ms(tweet["timestamp_ms"], "tweet timestamp_ms")
    elif tweet.get("created_at") is not None:
        try:
            created_at = parse_v1_created_at(_require_str(tweet["created_at"], "created_at"))
        except ValueError:
            raise PayloadError(f"tweet created_at {str(tweet['created_at'])[:40]!r}") from None
    else:
        created_at = fallback_time
    entities = _obj(extended).get("entities")
    if not isinstance(entities, dict):
        entities = _obj(tweet.get("entities"))
    mentions = [
        m.get("screen_name")
        for m in entities.get("user_mentions", [])
        if isinstance(m, dict) and m.get("screen_name")
    ]
    followers = user.get("followers_count")
    return InboundMessage(
        channel_account_id=account.id,
        platform=Platform.X,
        platform_message_id=tweet_id,
        author=Author(
            external_user_id=user_id,
            handle=user.get("screen_name"),
            display_name=user.get("name"),
            follower_count=followers if isinstance(followers, int) else None,
        ),
        body=html.unescape(text),
        created_at=created_at,
        visibility=Visibility.PUBLIC,
        reply_to_id=tweet.get("in_reply_to_status_id_str") or None,
        attachments=tweet_attachments(tweet),
        extra={
            "source": "webhook",
            "mentions": mentions,
            "in_reply_to_user_id": tweet.get("in_reply_to_user_id_str"),
        },
    )


def _parse_dm(
    event: dict[str, Any],
    account: AccountRef,
    for_user_id: str,
    users: dict[str, Any],
    app_id: str | None,
    fallback_time: datetime,
) -> InboundMessage | str | None:
    if event.get("type") != "message_create":
        return None
    event_id = event.get("id")
    if isinstance(event_id, int):
        event_id = str(event_id)
    event_id = _require_str(event_id, "direct message id")
    create = _require_dict(event.get("message_create"), "message_create")
    sender_id = _require_str(create.get("sender_id"), "sender_id")
    target = _require_dict(create.get("target"), "message_create.target")
    recipient_id = _require_str(target.get("recipient_id"), "recipient_id")
    source_app = create.get("source_app_id")
    if sender_id == for_user_id or (
        app_id is not None and source_app is not None and str(source_app) == app_id
    ):
        return event_id
    data = _require_dict(create.get("message_data"), "message_data")
    text = data.get("text", "")
    if not isinstance(text, str):
        raise PayloadError("message_data.text is not a string")
    sender = _obj(users.get(sender_id))
    followers = sender.get("followers_count")
    conversation = event.get("dm_conversation_id") or dm_conversation_id(sender_id, recipient_id)
    return InboundMessage(
        channel_account_id=account.id,
        platform=Platform.X,
        platform_message_id=event_id,
        author=Author(
            external_user_id=sender_id,
            handle=sender.get("screen_name"),
            display_name=sender.get("name"),
            follower_count=followers if isinstance(followers, int) else None,
        ),
        body=html.unescape(text),
        created_at=(
            fallback_time
            if event.get("created_timestamp") is None
            else _from_ms(event["created_timestamp"], "created_timestamp")
        ),
        visibility=Visibility.PRIVATE,
        conversation_id=str(conversation),
        extra={"source": "webhook", "recipient_id": recipient_id},
        attachments=dm_attachments(data),
    )
