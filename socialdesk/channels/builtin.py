"""Descriptors of the eight networks that predate ``channels/<network>/`` folders.

Their code still lives in ``channels/<network>.py`` and friends; these descriptors are
the one list of their facts that the rest of the desk reads (``channels/networks.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from socialdesk.channels.accounts import service_base_url
from socialdesk.channels.base import AccountRef, Connector, OutboundRequest, ReplyKind
from socialdesk.channels.bluesky.connector import BlueskyConnector
from socialdesk.channels.descriptor import (
    Absent,
    Challenge,
    ChannelDescriptor,
    ConnectorContext,
    Icon,
    LengthRules,
    PollSpec,
    SecretField,
    WebhookSpec,
)
from socialdesk.channels.email.connector import EmailConnector
from socialdesk.channels.mastodon.connector import MastodonConnector
from socialdesk.channels.meta.connector import MetaConnector
from socialdesk.channels.signatures import META_SIGNATURE_HEADER, X_SIGNATURE_HEADER
from socialdesk.channels.webform.connector import WebFormConnector
from socialdesk.channels.x.connector import XConnector
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, Visibility
from socialdesk.domain.length_rules import rule_for
from socialdesk.domain.messaging_window import SendDecision, decide_messaging_window

_PUBLIC_AND_DM = (ReplyKind.PUBLIC_REPLY, ReplyKind.DIRECT_MESSAGE)


def _rules(platform: Platform) -> LengthRules:
    public = rule_for(platform, Visibility.PUBLIC)
    private = rule_for(platform, Visibility.PRIVATE)
    return LengthRules(public, None if private is public else private)


# -- X ----------------------------------------------------------------------------------


def _x_receiver(settings: Settings) -> XConnector:
    return XConnector(
        settings.x_consumer_secret, base_url=settings.x_api_base_url, app_id=settings.x_app_id
    )


def _x_challenge(receiver: Any, query: Mapping[str, str]) -> Challenge:
    from socialdesk.channels.base import VerificationError

    crc_token = query.get("crc_token")
    if crc_token is None:
        raise VerificationError("crc_token query parameter is required", 400)
    return Challenge(receiver.crc_response(crc_token))


def _x_connector(ctx: ConnectorContext, account: AccountRef) -> Connector:
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


X_WEBHOOKS = WebhookSpec(
    "x", _x_receiver, _x_challenge, kept_headers=("content-type", "user-agent", X_SIGNATURE_HEADER)
)

# -- Meta: Facebook, Messenger, Instagram -----------------------------------------------


def meta_receiver(settings: Settings) -> MetaConnector:
    return MetaConnector(
        settings.meta_app_secret, settings.meta_verify_token, base_url=settings.meta_graph_base_url
    )


def meta_challenge(receiver: Any, query: Mapping[str, str]) -> Challenge:
    return Challenge(receiver.hub_challenge(query))


def _meta_connector(ctx: ConnectorContext, account: AccountRef) -> Connector:
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


META_WEBHOOKS = WebhookSpec(
    "meta",
    meta_receiver,
    meta_challenge,
    kept_headers=("content-type", "user-agent", META_SIGNATURE_HEADER),
)


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

    def refuse_reply(
        self,
        last_inbound_at: datetime | None,
        now: datetime,
        *,
        visibility: Visibility,
        template: str | None,
    ) -> str | None:
        return None


_META_SECRETS = (SecretField("access_token", "Page access token"),)


def _meta(platform: Platform, label: str, glyph: str, color: str) -> ChannelDescriptor:
    return ChannelDescriptor(
        platform=platform,
        label=label,
        icon=Icon(glyph, color),
        secrets=(
            (SecretField("access_token", "Access token"),)
            if platform == Platform.INSTAGRAM
            else _META_SECRETS
        ),
        length_rules=_rules(platform),
        messaging_window=MetaWindow(),
        reply_kinds=(
            (ReplyKind.DIRECT_MESSAGE,) if platform == Platform.MESSENGER else _PUBLIC_AND_DM
        ),
        webhooks=META_WEBHOOKS,
        poller=Absent("Meta delivers by webhook; sends are read back, not polled"),
        connector=_meta_connector,
        emulator="socialdesk.channels.meta.emulator:create_meta_emulator",
    )


# -- Mastodon, Bluesky: one connector per host --------------------------------------------


def _mastodon_connector(ctx: ConnectorContext, account: AccountRef) -> Connector | None:
    base_url = service_base_url(
        account.platform, account.handle, account.settings.get("base_url"), ""
    )
    if not base_url:
        return None
    return ctx.shared(f"mastodon:{base_url}", lambda: MastodonConnector(base_url, ctx.transport))


def _bluesky_connector(ctx: ConnectorContext, account: AccountRef) -> Connector | None:
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


_NO_WINDOW = Absent("no messaging window: replies may go out at any time")
_NO_WEBHOOKS = Absent("no webhooks: new posts are polled")


BUILTIN_NETWORKS: tuple[ChannelDescriptor, ...] = (
    ChannelDescriptor(
        platform=Platform.X,
        label="X (Twitter)",
        icon=Icon("X", "#000"),
        secrets=(SecretField("access_token", "Access token"),),
        length_rules=_rules(Platform.X),
        messaging_window=_NO_WINDOW,
        reply_kinds=_PUBLIC_AND_DM,
        webhooks=X_WEBHOOKS,
        poller=PollSpec(always=False),
        connector=_x_connector,
        emulator="socialdesk.channels.x.emulator:create_x_emulator",
    ),
    _meta(Platform.FACEBOOK, "Facebook", "f", "#1877f2"),
    _meta(Platform.MESSENGER, "Messenger", "m", "#0866ff"),
    _meta(Platform.INSTAGRAM, "Instagram", "ig", "#c13584"),
    ChannelDescriptor(
        platform=Platform.MASTODON,
        label="Mastodon",
        icon=Icon("M", "#563acc"),
        secrets=(SecretField("access_token", "Access token"),),
        length_rules=_rules(Platform.MASTODON),
        messaging_window=_NO_WINDOW,
        reply_kinds=_PUBLIC_AND_DM,
        webhooks=_NO_WEBHOOKS,
        poller=PollSpec(always=True),
        connector=_mastodon_connector,
        emulator="socialdesk.channels.mastodon.emulator:create_mastodon_app",
    ),
    ChannelDescriptor(
        platform=Platform.BLUESKY,
        label="Bluesky",
        icon=Icon("bs", "#0a66d8"),
        secrets=(
            SecretField("app_password", "App password"),
            SecretField("identifier", "Identifier"),
        ),
        length_rules=_rules(Platform.BLUESKY),
        messaging_window=_NO_WINDOW,
        reply_kinds=_PUBLIC_AND_DM,
        webhooks=_NO_WEBHOOKS,
        poller=PollSpec(always=True),
        connector=_bluesky_connector,
        emulator="socialdesk.channels.bluesky.emulator:create_bluesky_app",
    ),
    ChannelDescriptor(
        platform=Platform.EMAIL,
        label="E-mail",
        icon=Icon("@", "#57606a"),
        secrets=(SecretField("password", "Mailbox password"), SecretField("username", "Username")),
        length_rules=_rules(Platform.EMAIL),
        messaging_window=_NO_WINDOW,
        reply_kinds=(ReplyKind.EMAIL,),
        webhooks=Absent("no webhooks: the mailbox is read over IMAP"),
        poller=PollSpec(always=True),
        connector=lambda ctx, account: ctx.shared("email", EmailConnector),
        emulator="socialdesk.channels.email.emulator:MailEmulator",
    ),
    ChannelDescriptor(
        platform=Platform.WEB,
        label="Web form",
        icon=Icon("w", "#57606a"),
        secrets=Absent("the form is served by the desk itself: nothing to sign in with"),
        length_rules=_rules(Platform.WEB),
        messaging_window=_NO_WINDOW,
        reply_kinds=(ReplyKind.EMAIL,),
        webhooks=Absent("the form posts to /webform, served by the desk"),
        poller=Absent("submissions arrive on the desk's own form"),
        connector=lambda ctx, account: ctx.shared("web", WebFormConnector),
        emulator=Absent("the form is ours: tests post to it directly"),
    ),
)
