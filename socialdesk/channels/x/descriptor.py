"""X (Twitter) as the desk sees it: one descriptor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socialdesk.channels.base import AccountRef, Connector, VerificationError
from socialdesk.channels.descriptor import (
    NO_WINDOW,
    PUBLIC_AND_DM,
    Challenge,
    ChannelDescriptor,
    ConnectorContext,
    Hiding,
    Icon,
    MoveToPrivate,
    PollSpec,
    ReplyImages,
    SecretField,
    WebhookSpec,
    identify,
    length_rules_of,
)
from socialdesk.channels.signatures import X_SIGNATURE_HEADER
from socialdesk.channels.x.connector import XConnector
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform
from socialdesk.domain.media_types import REPLY_IMAGE_TYPES


def _receiver(settings: Settings) -> XConnector:
    return XConnector(
        settings.x_consumer_secret, base_url=settings.x_api_base_url, app_id=settings.x_app_id
    )


def _challenge(receiver: Any, query: Mapping[str, str]) -> Challenge:
    crc_token = query.get("crc_token")
    if crc_token is None:
        raise VerificationError("crc_token query parameter is required", 400)
    return Challenge(receiver.crc_response(crc_token))


def _connector(ctx: ConnectorContext, account: AccountRef) -> Connector:
    settings = ctx.settings
    return ctx.shared(
        "x",
        lambda: XConnector(
            settings.x_consumer_secret,
            base_url=settings.x_api_base_url,
            transport=ctx.transport,
            poll_overlap_seconds=settings.x_poll_overlap_seconds,
            app_id=settings.x_app_id,
            on_tokens=ctx.save_secrets,
            load_secrets=ctx.load_secrets,
        ),
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
    await connector.set_hidden(account, message_id, hidden)


# Short enough for X's 280 weighted characters.
INVITE = (
    "We'd like to help with this privately. Please send us a DM with the details "
    "and we'll pick it up there."
)

DESCRIPTOR = ChannelDescriptor(
    platform=Platform.X,
    label="X (Twitter)",
    icon=Icon("X", "#000"),
    secrets=(SecretField("access_token", "Access token"),),
    length_rules=length_rules_of(Platform.X),
    messaging_window=NO_WINDOW,
    reply_kinds=PUBLIC_AND_DM,
    # Up to four images on a post (5 MB each), one on a DM; alt text up to 1,000
    # characters (POST /2/media/metadata).
    reply_images=ReplyImages(
        4, 5 * 1024 * 1024, REPLY_IMAGE_TYPES, PUBLIC_AND_DM, direct_max_count=1, max_alt=1000
    ),
    webhooks=WebhookSpec(
        "x",
        _receiver,
        _challenge,
        kept_headers=("content-type", "user-agent", X_SIGNATURE_HEADER),
    ),
    poller=PollSpec(always=False),
    connector=_connector,
    emulator="socialdesk.channels.x.emulator:emulator_for_cli",
    hiding=Hiding("X", _hide),
    move_to_private=MoveToPrivate(invite=INVITE),
    credential_check=identify,
)
DESCRIPTORS = (DESCRIPTOR,)
