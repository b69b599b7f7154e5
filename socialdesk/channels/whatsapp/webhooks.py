"""WhatsApp Cloud API webhook bodies → messages and delivery statuses.

A body is ``{"object": "whatsapp_business_account", "entry": [{"id": <WABA id>,
"changes": [{"field": "messages", "value": {...}}]}]}``; a value names our number in
``metadata.phone_number_id`` (the account's ``external_id``) and carries customers'
``messages`` (with their ``contacts`` profiles) and ``statuses`` of the messages we
sent. One change that cannot be read is refused on its own; its neighbours are kept.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from socialdesk.channels.base import (
    AccountRef,
    AccountResolver,
    DeliveryStatus,
    NetworkStatus,
    ParsedEvent,
    PayloadError,
    RejectedEvent,
    refuse_if_nothing_read,
)
from socialdesk.channels.meta.webhooks import graph_timestamp, json_array, json_object, string_id
from socialdesk.channels.whatsapp.attachments import media_attachments
from socialdesk.channels.whatsapp.names import WHATSAPP
from socialdesk.domain.enums import Visibility
from socialdesk.domain.messages import Author, InboundMessage

OBJECT = "whatsapp_business_account"
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
_STATUSES = {s.value: s for s in NetworkStatus}


def conversation_id(phone_number_id: str, wa_id: str) -> str:
    """The chat between our number and one customer."""
    return f"{phone_number_id}:{wa_id}"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def message_body(message: dict[str, Any]) -> tuple[str, dict[str, object]]:
    """The text an agent reads and what else to keep (locations, buttons); media are
    attachments (``attachments.py``)."""
    kind = _text(message.get("type")) or "unknown"
    extra: dict[str, object] = {"whatsapp_type": kind}
    if kind == "text":
        return _text(json_object(message.get("text"), "text").get("body")), extra
    if kind in MEDIA_TYPES:
        media = json_object(message.get(kind), kind)
        string_id(media.get("id"), f"{kind}.id")  # a media message without its id is refused
        caption = _text(media.get("caption"))
        filename = _text(media.get("filename"))
        label = f"[{kind}{': ' + filename if filename else ''}]"
        return (f"{caption}\n{label}" if caption else label), extra
    if kind == "location":
        place = json_object(message.get("location"), "location")
        extra["location"] = {k: place.get(k) for k in ("latitude", "longitude", "name")}
        name = _text(place.get("name")) or _text(place.get("address"))
        return f"[location: {name or place.get('latitude')}, {place.get('longitude')}]", extra
    if kind == "button":
        return _text(json_object(message.get("button"), "button").get("text")), extra
    if kind == "interactive":
        chosen = json_object(message.get("interactive"), "interactive")
        reply = chosen.get("button_reply") or chosen.get("list_reply") or {}
        return _text(reply.get("title") if isinstance(reply, dict) else None), extra
    return f"[{kind} message]", extra


class ChangeParser:
    """One ``changes[].value``: its messages and statuses."""

    def __init__(
        self, value: dict[str, Any], resolve: AccountResolver, received_at: datetime | None
    ) -> None:
        self.value = value
        self.resolve = resolve
        self.received_at = received_at
        self.messages: list[InboundMessage] = []
        self.statuses: list[DeliveryStatus] = []

    def run(self) -> None:
        metadata = json_object(self.value.get("metadata"), "metadata")
        number_id = string_id(metadata.get("phone_number_id"), "metadata.phone_number_id")
        account = self.resolve(WHATSAPP, number_id)
        if account is None:
            return  # a number this desk does not serve
        names = self._profile_names()
        for message in json_array(self.value.get("messages", []), "messages"):
            self._message(account, number_id, json_object(message, "message"), names)
        for status in json_array(self.value.get("statuses", []), "statuses"):
            self._status(account, json_object(status, "status"))

    def _profile_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for contact in json_array(self.value.get("contacts", []), "contacts"):
            contact = json_object(contact, "contact")
            profile = contact.get("profile")
            name = profile.get("name") if isinstance(profile, dict) else None
            if isinstance(name, str):
                names[string_id(contact.get("wa_id"), "contacts.wa_id")] = name
        return names

    def _message(
        self, account: AccountRef, number_id: str, message: dict[str, Any], names: dict[str, str]
    ) -> None:
        if message.get("type") == "reaction":
            return  # an emoji on a message is not something to answer
        wa_id = string_id(message.get("from"), "message.from")
        body, extra = message_body(message)
        context = message.get("context")
        reply_to = context.get("id") if isinstance(context, dict) else None
        self.messages.append(
            InboundMessage(
                channel_account_id=account.id,
                platform=WHATSAPP,
                platform_message_id=string_id(message.get("id"), "message.id"),
                author=Author(wa_id, handle=f"+{wa_id}", display_name=names.get(wa_id)),
                body=body,
                created_at=graph_timestamp(message.get("timestamp"), self.received_at),
                visibility=Visibility.PRIVATE,
                reply_to_id=reply_to if isinstance(reply_to, str) else None,
                conversation_id=conversation_id(number_id, wa_id),
                extra=extra,
                attachments=media_attachments(message),
            )
        )

    def _status(self, account: AccountRef, status: dict[str, Any]) -> None:
        name = status.get("status")
        if name not in _STATUSES:
            raise PayloadError(f"unknown message status {name!r}")
        error = None
        if name == NetworkStatus.FAILED:
            errors = status.get("errors")
            first = errors[0] if isinstance(errors, list) and errors else {}
            first = first if isinstance(first, dict) else {}
            data = first.get("error_data")
            details = data.get("details") if isinstance(data, dict) else None
            error = (
                " — ".join(str(p) for p in (first.get("code"), first.get("title"), details) if p)
                or "the network reported the message failed"
            )
        self.statuses.append(
            DeliveryStatus(
                platform_message_id=string_id(status.get("id"), "status.id"),
                account_id=account.id,
                status=_STATUSES[str(name)],
                at=graph_timestamp(status.get("timestamp"), self.received_at),
                error=error,
            )
        )


def _rejected(exc: PayloadError, entry: object) -> RejectedEvent:
    return RejectedEvent(
        reason=str(exc), body=json.dumps({"object": OBJECT, "entry": [entry]}, default=str)
    )


def parse_whatsapp_webhook(
    raw_body: bytes, resolve: AccountResolver, received_at: datetime | None = None
) -> ParsedEvent:
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise PayloadError(f"body is not JSON: {exc}") from None
    payload = json_object(payload, "body")
    if payload.get("object") != OBJECT:
        raise PayloadError(f"object is not {OBJECT}")
    messages: list[InboundMessage] = []
    statuses: list[DeliveryStatus] = []
    rejected: list[RejectedEvent] = []
    for entry in json_array(payload.get("entry"), "entry"):
        try:
            entry = json_object(entry, "entry")
            changes = json_array(entry.get("changes"), "entry.changes")
        except PayloadError as exc:
            rejected.append(_rejected(exc, entry))
            continue
        for change in changes:
            try:
                change = json_object(change, "change")
                if change.get("field") != "messages":
                    continue  # template reviews, quality ratings: nothing for agents
                parser = ChangeParser(
                    json_object(change.get("value"), "value"), resolve, received_at
                )
                parser.run()
            except PayloadError as exc:
                rejected.append(_rejected(exc, {**entry, "changes": [change]}))
                continue
            messages.extend(parser.messages)
            statuses.extend(parser.statuses)
    return refuse_if_nothing_read(
        ParsedEvent(messages=messages, statuses=statuses, rejected=rejected)
    )
