"""The desk's own web form as a network: one descriptor, answered by e-mail."""

from __future__ import annotations

from socialdesk.channels.base import ReplyKind
from socialdesk.channels.descriptor import (
    EMAIL_IMAGES,
    NO_WINDOW,
    Absent,
    ChannelDescriptor,
    Icon,
    length_rules_of,
)
from socialdesk.channels.webform.connector import WebFormConnector
from socialdesk.domain.enums import Platform

DESCRIPTOR = ChannelDescriptor(
    platform=Platform.WEB,
    label="Web form",
    icon=Icon("w", "#57606a"),
    secrets=Absent("the form is served by the desk itself: nothing to sign in with"),
    length_rules=length_rules_of(Platform.WEB),
    messaging_window=NO_WINDOW,
    reply_kinds=(ReplyKind.EMAIL,),
    reply_images=EMAIL_IMAGES,
    webhooks=Absent("the form posts to /webform, served by the desk"),
    poller=Absent("submissions arrive on the desk's own form"),
    connector=lambda ctx, account: ctx.shared("web", WebFormConnector),
    emulator=Absent("the form is ours: tests post to it directly"),
    hiding=Absent("a web-form message is private; there is nothing public to hide"),
    move_to_private=Absent("the customer is answered by e-mail, already private"),
)
DESCRIPTORS = (DESCRIPTOR,)
