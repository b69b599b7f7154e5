"""Mastodon as the desk sees it: one descriptor, one connector per instance."""

from __future__ import annotations

from socialdesk.channels.accounts import service_base_url
from socialdesk.channels.base import AccountRef, Connector
from socialdesk.channels.descriptor import (
    NO_WINDOW,
    PUBLIC_AND_DM,
    Absent,
    ChannelDescriptor,
    ConnectorContext,
    Icon,
    MoveToPrivate,
    PollSpec,
    ReplyImages,
    SecretField,
    identify,
    length_rules_of,
)
from socialdesk.channels.mastodon.connector import MastodonConnector
from socialdesk.domain.enums import Platform
from socialdesk.domain.media_types import REPLY_IMAGE_TYPES


def _connector(ctx: ConnectorContext, account: AccountRef) -> Connector | None:
    base_url = service_base_url(
        account.platform, account.handle, account.settings.get("base_url"), ""
    )
    if not base_url:
        return None
    return ctx.shared(f"mastodon:{base_url}", lambda: MastodonConnector(base_url, ctx.transport))


INVITE = (
    "We'd like to help with this privately. Please send us a direct "
    "message with the details and we'll pick it up there."
)

DESCRIPTOR = ChannelDescriptor(
    platform=Platform.MASTODON,
    label="Mastodon",
    icon=Icon("M", "#563acc"),
    secrets=(SecretField("access_token", "Access token"),),
    length_rules=length_rules_of(Platform.MASTODON),
    messaging_window=NO_WINDOW,
    reply_kinds=PUBLIC_AND_DM,
    # A media attachment's description takes up to 1,500 characters (Mastodon's default
    # media_attachments.description_limit).
    reply_images=ReplyImages(4, 16_000_000, REPLY_IMAGE_TYPES, PUBLIC_AND_DM, max_alt=1500),
    webhooks=Absent("no webhooks: new posts are polled"),
    poller=PollSpec(always=True),
    connector=_connector,
    emulator="socialdesk.channels.mastodon.emulator:emulator_for_cli",
    hiding=Absent("Mastodon has no API to hide a reply"),
    move_to_private=MoveToPrivate(invite=INVITE),
    credential_check=identify,
)
DESCRIPTORS = (DESCRIPTOR,)
