"""E-mail as the desk sees it: one descriptor (IMAP in, SMTP out)."""

from __future__ import annotations

from socialdesk.channels.base import ReplyKind
from socialdesk.channels.descriptor import (
    EMAIL_IMAGES,
    NO_WINDOW,
    Absent,
    ChannelDescriptor,
    Icon,
    PollSpec,
    SecretField,
    identify,
    length_rules_of,
)
from socialdesk.channels.email.connector import EmailConnector
from socialdesk.domain.enums import Platform

DESCRIPTOR = ChannelDescriptor(
    platform=Platform.EMAIL,
    label="E-mail",
    icon=Icon("@", "#57606a"),
    secrets=(SecretField("password", "Mailbox password"), SecretField("username", "Username")),
    length_rules=length_rules_of(Platform.EMAIL),
    messaging_window=NO_WINDOW,
    reply_kinds=(ReplyKind.EMAIL,),
    reply_images=EMAIL_IMAGES,
    webhooks=Absent("no webhooks: the mailbox is read over IMAP"),
    poller=PollSpec(always=True),
    connector=lambda ctx, account: ctx.shared("email", EmailConnector),
    emulator="socialdesk.channels.email.emulator:MailEmulator",
    hiding=Absent("an e-mail is private; there is nothing public to hide"),
    move_to_private=Absent("an e-mail is already private"),
    credential_check=identify,
)
DESCRIPTORS = (DESCRIPTOR,)
