"""Facebook, Messenger and Instagram as the desk sees them: three descriptors sharing
Meta's app, webhook endpoint and Graph connector."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from socialdesk.channels.base import AccountRef, Connector, OutboundRequest, ReplyKind
from socialdesk.channels.descriptor import (
    PUBLIC_AND_DM,
    Absent,
    Challenge,
    ChannelDescriptor,
    ConnectorContext,
    Hiding,
    Icon,
    MoveToPrivate,
    ReplyImages,
    SecretField,
    WebhookSpec,
    WindowHint,
    identify,
    length_rules_of,
)
from socialdesk.channels.meta.connector import MetaConnector
from socialdesk.channels.signatures import META_SIGNATURE_HEADER
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, Visibility
from socialdesk.domain.messaging_window import SendDecision, decide_messaging_window


def _receiver(settings: Settings) -> MetaConnector:
    return MetaConnector(
        settings.meta_app_secret, settings.meta_verify_token, base_url=settings.meta_graph_base_url
    )


def _challenge(receiver: Any, query: Mapping[str, str]) -> Challenge:
    return Challenge(receiver.hub_challenge(query))


def _connector(ctx: ConnectorContext, account: AccountRef) -> Connector:
    settings = ctx.settings
    return ctx.shared(
        "meta",
        lambda: MetaConnector(
            settings.meta_app_secret,
            settings.meta_verify_token,
            base_url=settings.meta_graph_base_url,
            transport=ctx.transport,
        ),
    )


WEBHOOKS = WebhookSpec(
    "meta",
    _receiver,
    _challenge,
    kept_headers=("content-type", "user-agent", META_SIGNATURE_HEADER),
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
    await connector.set_hidden(account, message_id, hidden, platform)


class MetaWindow:
    """Messenger's 24 hours, then 7 days for a person's reply tagged HUMAN_AGENT
    (``domain/messaging_window.py``). Judged at send time only: the worker fails a
    reply the window refuses, with the alternatives."""

    def check_send(
        self,
        platform: Platform,
        request: OutboundRequest,
        last_inbound_at: datetime | None,
        now: datetime,
        *,
        human_typed: bool,
        customer_email: str | None,
    ) -> OutboundRequest | str:
        if request.kind is not ReplyKind.DIRECT_MESSAGE:
            return request
        decision = decide_messaging_window(
            platform, last_inbound_at, now, human_typed=human_typed, customer_email=customer_email
        )
        if decision.decision is SendDecision.ALLOWED:
            return request
        if decision.decision is SendDecision.HUMAN_AGENT_ONLY:
            return replace(request, human_agent_tag=True)
        options = ", ".join(str(a).replace("_", " ") for a in decision.alternatives) or "none"
        return f"outside Meta's messaging window ({decision.reason}); alternatives: {options}"

    def composer_hint(
        self,
        platform: Platform,
        last_inbound_at: datetime | None,
        now: datetime,
        *,
        customer_email: str | None,
    ) -> WindowHint | None:
        """Messenger and Instagram DMs: what a DM can still do, and the e-mail mode as
        the alternative when the customer has an address (a Facebook ticket is a
        comment thread: no hint)."""
        if platform not in (Platform.MESSENGER, Platform.INSTAGRAM):
            return None
        decision = decide_messaging_window(
            platform, last_inbound_at, now, human_typed=True, customer_email=customer_email
        )
        if decision.decision is SendDecision.ALLOWED:
            return None
        if decision.decision is SendDecision.HUMAN_AGENT_ONLY:
            return WindowHint(
                "Past Meta's 24-hour window: a direct message goes out tagged as a human reply."
            )
        hint = "Outside Meta's messaging window: a direct message cannot be sent."
        if customer_email:
            return WindowHint(hint + " Send an e-mail instead.", prefer_email=True)
        return WindowHint(hint + " Answer in public instead.")

    def refuse_reply(
        self,
        last_inbound_at: datetime | None,
        now: datetime,
        *,
        visibility: Visibility,
        template: str | None,
    ) -> str | None:
        return None


def _meta(
    platform: Platform,
    label: str,
    icon: Icon,
    *,
    credential: str,
    reply_kinds: tuple[ReplyKind, ...],
    hiding: Hiding | Absent,
    move_to_private: MoveToPrivate,
    reply_images: ReplyImages | Absent,
) -> ChannelDescriptor:
    return ChannelDescriptor(
        platform=platform,
        label=label,
        icon=icon,
        secrets=(SecretField("access_token", credential),),
        length_rules=length_rules_of(platform),
        messaging_window=MetaWindow(),
        reply_kinds=reply_kinds,
        webhooks=WEBHOOKS,
        poller=Absent("Meta delivers by webhook; sends are read back, not polled"),
        connector=_connector,
        emulator="socialdesk.channels.meta.emulator:emulator_for_cli",
        hiding=hiding,
        move_to_private=move_to_private,
        credential_check=identify,
        reply_images=reply_images,
    )


# What Graph takes as a comment's ``source`` photo and a Messenger image (no webp).
FACEBOOK_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
# Instagram DMs: PNG and JPEG up to 8 MB (Meta's Instagram send-message page). Messenger
# takes up to 25 MB by upload but 8 MB by URL; one limit for both keeps the rule simple.
INSTAGRAM_DM_IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
META_DM_IMAGE_MAX_BYTES = 8_000_000
# The desk's own cap: each image is a message of its own in the customer's thread.
DM_IMAGES_PER_REPLY = 4
FACEBOOK = _meta(
    Platform.FACEBOOK,
    "Facebook",
    Icon("f", "#1877f2"),
    credential="Page access token",
    reply_kinds=PUBLIC_AND_DM,
    hiding=Hiding("Facebook", _hide),
    move_to_private=MoveToPrivate(answers_comment=True),
    # One photo on a Page comment reply, sent with its text in the same Graph call
    # (multipart ``source``). A DM on a Facebook ticket is a Messenger message: text only.
    reply_images=ReplyImages(1, 4_000_000, FACEBOOK_IMAGE_TYPES, (ReplyKind.PUBLIC_REPLY,)),
)
MESSENGER = _meta(
    Platform.MESSENGER,
    "Messenger",
    Icon("m", "#0866ff"),
    credential="Page access token",
    reply_kinds=(ReplyKind.DIRECT_MESSAGE,),
    hiding=Absent("a Messenger message is private; there is nothing public to hide"),
    move_to_private=MoveToPrivate(),
    # The text, then each image as a message of its own (multipart ``filedata`` on the
    # Send API), each part recorded as it goes out so a resumed worker sends only the rest.
    reply_images=ReplyImages(
        DM_IMAGES_PER_REPLY,
        META_DM_IMAGE_MAX_BYTES,
        FACEBOOK_IMAGE_TYPES,
        (ReplyKind.DIRECT_MESSAGE,),
        one_per_message=True,
    ),
)
INSTAGRAM = _meta(
    Platform.INSTAGRAM,
    "Instagram",
    Icon("ig", "#c13584"),
    credential="Access token",
    reply_kinds=PUBLIC_AND_DM,
    hiding=Hiding("Instagram", _hide),
    move_to_private=MoveToPrivate(answers_comment=True),
    # DMs as on Messenger (Instagram takes PNG and JPEG only); comment replies cannot
    # carry an image at all on the Graph API.
    reply_images=ReplyImages(
        DM_IMAGES_PER_REPLY,
        META_DM_IMAGE_MAX_BYTES,
        INSTAGRAM_DM_IMAGE_TYPES,
        (ReplyKind.DIRECT_MESSAGE,),
        one_per_message=True,
        kind_reason="Instagram comment replies are text only (the Graph API takes no image "
        "on a comment reply); send the image by direct message",
    ),
)
DESCRIPTORS = (FACEBOOK, MESSENGER, INSTAGRAM)
