"""Bluesky as the desk sees it: one descriptor, one connector per PDS host."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from socialdesk.channels.accounts import service_base_url
from socialdesk.channels.base import AccountRef, Connector, ReplyKind
from socialdesk.channels.bluesky.connector import BlueskyConnector
from socialdesk.channels.bluesky.threadgate import thread_root_of, why_brand_cannot_hide
from socialdesk.channels.descriptor import (
    NO_WINDOW,
    PUBLIC_AND_DM,
    Absent,
    ChannelDescriptor,
    ConnectorContext,
    Hiding,
    Icon,
    MoveToPrivate,
    PollSpec,
    ReplyImages,
    SecretField,
    identify,
    length_rules_of,
)
from socialdesk.domain.enums import Platform
from socialdesk.domain.media_types import REPLY_IMAGE_TYPES


def _connector(ctx: ConnectorContext, account: AccountRef) -> Connector | None:
    base_url = service_base_url(
        account.platform,
        account.handle,
        account.settings.get("base_url"),
        ctx.settings.bluesky_base_url,
    )
    if not base_url:
        return None

    def save_session(account_id: int, access_jwt: str, refresh_jwt: str) -> None:
        if ctx.save_secrets is not None:
            ctx.save_secrets(account_id, {"access_jwt": access_jwt, "refresh_jwt": refresh_jwt})

    return ctx.shared(
        f"bluesky:{base_url}",
        lambda: BlueskyConnector(base_url, ctx.transport, on_session=save_session),
    )


async def _hide(
    connector: Any,
    account: AccountRef,
    message_id: str,
    hidden: bool,
    *,
    platform: Platform,
    thread_root: str | None,
) -> None:
    await connector.set_hidden(account, message_id, hidden, root_uri=thread_root)


def _thread_root(message_id: str, reply_to_id: str | None, references: Sequence[str]) -> str | None:
    return thread_root_of(message_id, reply_to_id, references)


def _refusal(
    message_id: str, reply_to_id: str | None, references: Sequence[str], brand_ids: set[str]
) -> str | None:
    if not message_id.startswith("at://"):
        return "the message has no Bluesky post uri (at://…) to hide"
    root = thread_root_of(message_id, reply_to_id, references)
    brand = brand_ids - {""}
    # The account's DID is its external_id; without a DID only the connector can tell.
    if root is None or not any(b.startswith("did:") for b in brand):
        return None
    return why_brand_cannot_hide(message_id, root, brand)


INVITE = (
    "We'd like to help privately. Please write to us with the details and we'll pick it up there."
)

DESCRIPTOR = ChannelDescriptor(
    platform=Platform.BLUESKY,
    label="Bluesky",
    icon=Icon("bs", "#0a66d8"),
    secrets=(
        SecretField("app_password", "App password"),
        SecretField("identifier", "Identifier"),
    ),
    length_rules=length_rules_of(Platform.BLUESKY),
    messaging_window=NO_WINDOW,
    reply_kinds=PUBLIC_AND_DM,
    # Posts embed up to four images (app.bsky.embed.images); chat messages carry none.
    # Each image's ``alt`` is plain text; the Bluesky app takes up to 2,000 characters.
    reply_images=ReplyImages(
        4, 1_000_000, REPLY_IMAGE_TYPES, (ReplyKind.PUBLIC_REPLY,), max_alt=2000
    ),
    webhooks=Absent("no webhooks: new posts are polled"),
    poller=PollSpec(always=True),
    connector=_connector,
    emulator="socialdesk.channels.bluesky.emulator:emulator_for_cli",
    hiding=Hiding("Bluesky", _hide, refusal=_refusal, thread_root=_thread_root),
    # A convo opened with getConvoForMembers; the customer's privacy settings may
    # still refuse it.
    move_to_private=MoveToPrivate(invite=INVITE),
    credential_check=identify,
)
DESCRIPTORS = (DESCRIPTOR,)
