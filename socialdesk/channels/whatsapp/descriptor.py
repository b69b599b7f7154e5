"""WhatsApp Business (Cloud API) as the desk sees it: one descriptor."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from socialdesk.channels.base import AccountRef, MessageTemplate, OutboundRequest, ReplyKind
from socialdesk.channels.descriptor import (
    Absent,
    Challenge,
    ChannelDescriptor,
    ConnectorContext,
    Icon,
    LengthRules,
    ReplyImages,
    SecretField,
    WebhookSpec,
    WindowHint,
    identify,
)
from socialdesk.channels.whatsapp.connector import (
    DEFAULT_BASE_URL,
    MAX_CAPTION,
    WhatsAppConnector,
)
from socialdesk.channels.whatsapp.names import SIGNATURE_HEADER, WHATSAPP
from socialdesk.channels.whatsapp.templates import fill_template, template_names
from socialdesk.channels.whatsapp.window import free_form_refusal
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, Visibility
from socialdesk.domain.length_rules import LengthRule, code_point_length

# A text message's body: 4096 characters (Cloud API reference, "text object").
TEXT_RULE = LengthRule(
    WHATSAPP, "characters", 4096, code_point_length, source="Cloud API text object"
)


class CustomerServiceWindow:
    """Free text within 24 hours of the customer's last message, an approved template
    otherwise: refused when the agent writes, checked again when it is sent (a
    scheduled reply may outlive the window)."""

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
        if request.template is not None:
            return request
        return free_form_refusal(last_inbound_at, now) or request

    def composer_hint(
        self,
        platform: Platform,
        last_inbound_at: datetime | None,
        now: datetime,
        *,
        customer_email: str | None,
    ) -> WindowHint | None:
        return None  # the composer's template choice says it (refuse_reply's reason)

    def refuse_reply(
        self,
        last_inbound_at: datetime | None,
        now: datetime,
        *,
        visibility: Visibility,
        template: str | None,
    ) -> str | None:
        return None if template else free_form_refusal(last_inbound_at, now)


class AccountTemplates:
    def names(self, settings: Mapping[str, object]) -> list[str]:
        return template_names(settings)

    def fill(
        self, settings: Mapping[str, object], name: str, text: str
    ) -> tuple[MessageTemplate, str] | str:
        return fill_template(settings, name, text)


def _receiver(settings: Settings) -> WhatsAppConnector:
    return WhatsAppConnector(
        settings.meta_app_secret, settings.meta_verify_token, base_url=settings.meta_graph_base_url
    )


def _challenge(receiver: Any, query: Mapping[str, str]) -> Challenge:
    return Challenge(receiver.hub_challenge(query))


def _connector(ctx: ConnectorContext, account: AccountRef) -> WhatsAppConnector:
    configured = account.settings.get("base_url")
    base_url = (
        configured.strip().rstrip("/")
        if isinstance(configured, str) and configured.strip()
        else ctx.settings.meta_graph_base_url or DEFAULT_BASE_URL
    )
    settings = ctx.settings
    connector: WhatsAppConnector = ctx.shared(
        f"whatsapp:{base_url}",
        lambda: WhatsAppConnector(
            settings.meta_app_secret,
            settings.meta_verify_token,
            base_url=base_url,
            transport=ctx.transport,
        ),
    )
    return connector


DESCRIPTOR = ChannelDescriptor(
    platform=WHATSAPP,
    label="WhatsApp",
    icon=Icon("wa", "#128c4b"),
    secrets=(SecretField("access_token", "System user access token"),),
    length_rules=LengthRules(TEXT_RULE),
    messaging_window=CustomerServiceWindow(),
    reply_kinds=(ReplyKind.DIRECT_MESSAGE,),
    webhooks=WebhookSpec(
        "whatsapp",
        _receiver,
        _challenge,
        kept_headers=("content-type", "user-agent", SIGNATURE_HEADER),
    ),
    poller=Absent("the Cloud API has no endpoint listing messages: they come by webhook"),
    connector=_connector,
    emulator="socialdesk.channels.whatsapp.emulator:emulator_for_cli",
    hiding=Absent("a WhatsApp message is private; there is nothing public to hide"),
    move_to_private=Absent("every WhatsApp reply is already a private message"),
    templates=AccountTemplates(),
    credential_check=identify,
    # One JPEG or PNG (the Cloud API's image types, 5 MB) per reply, the text as its
    # caption: uploaded to /media, then sent as one image message.
    reply_images=ReplyImages(
        1,
        5_000_000,
        frozenset({"image/jpeg", "image/png"}),
        (ReplyKind.DIRECT_MESSAGE,),
        max_caption=MAX_CAPTION,
    ),
)
DESCRIPTORS = (DESCRIPTOR,)
