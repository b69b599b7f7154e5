"""What the desk knows about one network, in one value: ``ChannelDescriptor``.

Every place that used to switch on the network (settings form, icons, length rules,
messaging window, reply kinds, webhook routes, polling, connectors) reads the
descriptor instead, so a network is added by registering one (``channels/networks.py``)
and a missing capability is a declared ``Absent`` with its reason, never a forgotten
table entry that fails at run time with a ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from socialdesk.channels.base import (
    AccountRef,
    Connector,
    Identity,
    MessageTemplate,
    OutboundRequest,
    ReplyKind,
)
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, Visibility
from socialdesk.domain.length_rules import LengthRule, rule_for
from socialdesk.domain.media_types import REPLY_IMAGE_TYPES


@dataclass(frozen=True, slots=True)
class Absent:
    """A capability this network does not have, and why (shown in docs and tests)."""

    reason: str


@dataclass(frozen=True, slots=True)
class SecretField:
    """One credential the account form asks for; the first required one connects."""

    name: str
    label: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class Icon:
    """The network's badge: a short glyph on a coloured square (``.net-<name>``)."""

    glyph: str
    color: str


@dataclass(frozen=True, slots=True)
class LengthRules:
    """How long a reply may be; ``private`` when DMs have another limit. Whether a long
    public reply may be split into a thread is ``public.threads``."""

    public: LengthRule
    private: LengthRule | None = None


class WebhookReceiver(Protocol):
    """What the webhook route needs from a network: the signature check on the raw
    bytes (``VerificationError`` when it fails) and the parser the raw-event worker runs."""

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None: ...

    def parse_webhook(self, raw_body: bytes, resolve: Any, received_at: Any = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class Challenge:
    """The answer to a network's GET verification: JSON (X's CRC) or plain text (Meta)."""

    body: str | dict[str, str]


@dataclass(frozen=True, slots=True)
class WebhookSpec:
    """``/hooks/<path>``: GET answers the network's challenge, POST stores a signed
    delivery under ``source`` for the parser. Networks sharing one app (Facebook,
    Messenger, Instagram) share one spec."""

    path: str
    receiver: Callable[[Settings], WebhookReceiver]
    # Raises VerificationError (with its status) when the challenge is not the network's.
    challenge: Callable[[Any, Mapping[str, str]], Challenge]
    # Request headers kept with the raw event (never auth headers).
    kept_headers: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        return f"hooks:{self.path}"

    @property
    def route(self) -> str:
        return f"/hooks/{self.path}"


@dataclass(frozen=True, slots=True)
class PollSpec:
    """The connector's ``poll`` reads new posts; ``always``: every account is polled,
    otherwise only those whose settings say ``poll``."""

    always: bool


class ConnectorContext(Protocol):
    """What a connector factory may use: the registry (``channels/registry.py``)."""

    settings: Settings
    transport: httpx.AsyncBaseTransport | None
    save_secrets: Callable[[int, dict[str, str]], None] | None
    load_secrets: Callable[[int], Mapping[str, str]] | None

    def shared(self, key: str, make: Callable[[], Any]) -> Any:
        """One connector per ``key`` for the registry's life (a client per host)."""
        ...


ConnectorFactory = Callable[[ConnectorContext, AccountRef], Connector | None]


@dataclass(frozen=True, slots=True)
class WindowHint:
    """What the composer says about the window before the agent writes; ``prefer_email``
    opens the e-mail mode when the customer has an address."""

    text: str
    prefer_email: bool = False


class MessagingWindow(Protocol):
    """A network's rule on when a private message may still be sent."""

    def composer_hint(
        self,
        platform: Platform,
        last_inbound_at: datetime | None,
        now: datetime,
        *,
        customer_email: str | None,
    ) -> WindowHint | None:
        """What the conversation page says about the window now, or None."""
        ...

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
        """At send time: the request to send (perhaps tagged) or why it cannot go."""
        ...

    def refuse_reply(
        self,
        last_inbound_at: datetime | None,
        now: datetime,
        *,
        visibility: Visibility,
        template: str | None,
    ) -> str | None:
        """When the agent writes: why this reply cannot be sent at all (an action
        error), or None. Rules that only the send can judge return None here."""
        ...


class TemplateCatalog(Protocol):
    """Message templates the network approved for an account (read from its settings)."""

    def names(self, settings: Mapping[str, object]) -> list[str]: ...

    def fill(
        self, settings: Mapping[str, object], name: str, text: str
    ) -> tuple[MessageTemplate, str] | str:
        """The template with the reply filled in and the text the customer will read,
        or why this template cannot be used."""
        ...


NO_TEMPLATES = Absent("no message templates: free text may be sent whenever a reply may")


class HideCall(Protocol):
    """Hide (or unhide) one customer reply through the account's connector; raises
    ``SendError`` when the network refuses. ``thread_root`` is the thread's first post
    when stored (Bluesky's threadgate lives there)."""

    def __call__(
        self,
        connector: Any,
        account: AccountRef,
        message_id: str,
        hidden: bool,
        *,
        platform: Platform,
        thread_root: str | None,
    ) -> Awaitable[None]: ...


class ThreadRoot(Protocol):
    """The id of the first post of the thread a stored reply is in, or None."""

    def __call__(
        self, message_id: str, reply_to_id: str | None, references: Sequence[str]
    ) -> str | None: ...


class HideRefusal(Protocol):
    """Why the brand (any of ``brand_ids``) cannot hide this stored reply, as far as the
    stored thread tells; None when it can or only the network can tell."""

    def __call__(
        self,
        message_id: str,
        reply_to_id: str | None,
        references: Sequence[str],
        brand_ids: set[str],
    ) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Hiding:
    """Hiding a customer's public reply on the network (``actions/moderation.py``);
    ``name`` is how a refusal names the network ("X refused: ..."). Networks where only
    the thread's author may hide (Bluesky) also give ``refusal`` (checked before the
    Hide button is shown and before the call) and ``thread_root`` (passed to ``hide``)."""

    name: str
    hide: HideCall
    refusal: HideRefusal | None = None
    thread_root: ThreadRoot | None = None


@dataclass(frozen=True, slots=True)
class MoveToPrivate:
    """How a public conversation moves to private messages. ``open_dm``: we may write the
    first private message ourselves; ``answers_comment``: that first message is Meta's
    private reply to the customer's comment (within 7 days); ``invite``: the public reply
    asking the customer to write to us privately (None: the generic wording)."""

    open_dm: bool = True
    answers_comment: bool = False
    invite: str | None = None


class CredentialCheck(Protocol):
    """Ask the network whom the account's credentials belong to, with one cheap read
    (X ``/2/users/me``, a Graph node, Mastodon ``verify_credentials``, a Bluesky
    session, an IMAP login). Raises ``SendError`` classified as for sends."""

    def __call__(self, connector: Any, account: AccountRef) -> Awaitable[Identity]: ...


def identify(connector: Any, account: AccountRef) -> Awaitable[Identity]:
    """The check for connectors that answer it themselves (``connector.identify``)."""
    result: Awaitable[Identity] = connector.identify(account)
    return result


NO_CREDENTIAL_CHECK = Absent("no credentials to check")


@dataclass(frozen=True, slots=True)
class ReplyImages:
    """Replies on this network can carry images: how many, how large, which types,
    on which kinds of reply (Bluesky's DMs carry none); ``direct_max_count`` when a
    DM takes fewer than a post (X: one)."""

    max_count: int
    max_bytes: int
    mime_types: frozenset[str]
    kinds: tuple[ReplyKind, ...]
    direct_max_count: int | None = None
    # When the reply's text goes out as the image's caption, which is shorter than a
    # text message (WhatsApp: 1024 characters).
    max_caption: int | None = None
    # Each image is a message of its own after the text (Meta's Send API carries text
    # or one attachment per message): the worker sends and records them as parts.
    one_per_message: bool = False
    # Why a reply of a kind not in ``kinds`` carries none, when the network says why.
    kind_reason: str | None = None
    # The longest description (alt text) the network takes per image, in characters
    # (X 1,000, Mastodon 1,500); None: the network carries none, the desk keeps it.
    max_alt: int | None = None

    def refusal(
        self,
        kind: ReplyKind,
        images: Sequence[tuple[str, int]],
        label: str,
        text: str = "",
        alts: Sequence[str] = (),
    ) -> str | None:
        """Why these images (type, size, and their ``alts``) cannot go out on a reply of
        ``kind`` with this ``text``, or None."""
        if not images:
            return None
        for position, alt in enumerate(alts, start=1):
            if self.max_alt is not None and len(alt) > self.max_alt:
                return (
                    f"{label} takes an image description (alt text) of up to {self.max_alt} "
                    f"characters; image {position}'s has {len(alt)}"
                )
        if self.max_caption is not None and len(text) > self.max_caption:
            return (
                f"{label} sends a reply with an image as its caption, which takes up to "
                f"{self.max_caption} characters; this one has {len(text)}"
            )
        if kind not in self.kinds:
            why = f": {self.kind_reason}" if self.kind_reason else ""
            return f"{label} does not allow images on a {kind.value.replace('_', ' ')}{why}"
        most = self.max_count
        if kind is ReplyKind.DIRECT_MESSAGE and self.direct_max_count is not None:
            most = self.direct_max_count
        if len(images) > most:
            return f"{label} allows at most {most} image(s) on a reply, not {len(images)}"
        for mime_type, size in images:
            if mime_type not in self.mime_types:
                return f"{label} does not take {mime_type} images"
            if size > self.max_bytes:
                return f"{label} takes images up to {self.max_bytes} bytes; one has {size}"
        return None


# An e-mail header line stays readable (RFC 5322 folds it; this bounds its length).
EMAIL_ALT_MAX = 1000
NO_REPLY_IMAGES = Absent("replies on this network carry text only")
# An e-mail carries images as MIME parts (the web form is answered by e-mail too).
# The description goes out as each part's Content-Description (RFC 2045), one line.
EMAIL_IMAGES = ReplyImages(
    10, 10_000_000, REPLY_IMAGE_TYPES, (ReplyKind.EMAIL,), max_alt=EMAIL_ALT_MAX
)

# Shared by most networks' descriptors.
PUBLIC_AND_DM = (ReplyKind.PUBLIC_REPLY, ReplyKind.DIRECT_MESSAGE)
NO_WINDOW = Absent("no messaging window: replies may go out at any time")


@dataclass(frozen=True, slots=True)
class ChannelDescriptor:
    """One network. ``platform`` is its stored name; the rest is each capability, or
    ``Absent`` with the reason this network has none."""

    platform: Platform
    label: str
    icon: Icon
    secrets: tuple[SecretField, ...] | Absent
    length_rules: LengthRules
    messaging_window: MessagingWindow | Absent
    # What a reply on this network can be; the first one a private reply can use
    # decides (an e-mail-only network answers by e-mail).
    reply_kinds: tuple[ReplyKind, ...]
    webhooks: WebhookSpec | Absent
    poller: PollSpec | Absent
    connector: ConnectorFactory | Absent
    # "module:function" building the emulator's ASGI app (imported only when asked).
    emulator: str | Absent
    # Hiding a customer's public reply on the network (actions/moderation.py).
    hiding: Hiding | Absent
    # Moving a public conversation to private messages (actions/private.py).
    move_to_private: MoveToPrivate | Absent
    # Approved message templates: replies outside the window need one (WhatsApp).
    templates: TemplateCatalog | Absent = NO_TEMPLATES
    # The live check of the account's credentials (actions/channel_check.py).
    credential_check: CredentialCheck | Absent = NO_CREDENTIAL_CHECK
    # Images an agent may attach to a reply (actions/uploads.py checks, connectors send).
    reply_images: ReplyImages | Absent = NO_REPLY_IMAGES

    @property
    def name(self) -> str:
        return str(self.platform)

    @property
    def allows_threads(self) -> bool:
        return self.length_rules.public.threads

    @property
    def answers_by_email(self) -> bool:
        """Replies are e-mails (e-mail, the web form): the customer's address is known
        and the conversation is already private; every other network is "social"."""
        return ReplyKind.EMAIL in self.reply_kinds


# Every capability a descriptor has, for the test that walks them all and for docs.
CAPABILITIES = (
    "secrets",
    "length_rules",
    "messaging_window",
    "reply_kinds",
    "webhooks",
    "poller",
    "connector",
    "emulator",
    "icon",
    "templates",
    "hiding",
    "move_to_private",
    "credential_check",
    "reply_images",
)


def length_rules_of(platform: Platform) -> LengthRules:
    """The rules ``domain/length_rules.py`` holds for a built-in network."""
    public = rule_for(platform, Visibility.PUBLIC)
    private = rule_for(platform, Visibility.PRIVATE)
    return LengthRules(public, None if private is public else private)
