"""Every registered network declares each capability: provided, or Absent with a reason."""

from __future__ import annotations

import importlib

import pytest

from socialdesk.channels.base import ReplyKind
from socialdesk.channels.descriptor import (
    CAPABILITIES,
    Absent,
    ChannelDescriptor,
    Icon,
    LengthRules,
    PollSpec,
    SecretField,
    WebhookSpec,
)
from socialdesk.channels.networks import all_networks, descriptor_for, webhook_specs
from socialdesk.domain.enums import Platform, Visibility
from socialdesk.domain.length_rules import rule_for

NETWORKS = all_networks()


def test_every_platform_has_exactly_one_descriptor() -> None:
    names = [d.name for d in NETWORKS]
    assert sorted(names) == sorted(str(p) for p in Platform)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("descriptor", NETWORKS, ids=lambda d: d.name)
def test_each_capability_is_provided_or_declared_absent(descriptor: ChannelDescriptor) -> None:
    expected_types: dict[str, tuple[type, ...]] = {
        "secrets": (tuple,),
        "length_rules": (LengthRules,),
        "reply_kinds": (tuple,),
        "webhooks": (WebhookSpec,),
        "poller": (PollSpec,),
        "icon": (Icon,),
        "emulator": (str,),
    }
    for capability in CAPABILITIES:
        value = getattr(descriptor, capability)
        assert value is not None, f"{descriptor.name}.{capability} is neither given nor Absent"
        if isinstance(value, Absent):
            assert value.reason.strip(), f"{descriptor.name}.{capability}: Absent needs a reason"
            continue
        if capability in expected_types:
            assert isinstance(value, expected_types[capability]), (descriptor.name, capability)
        elif capability == "messaging_window":
            assert callable(value.check_send) and callable(value.refuse_reply)
        elif capability == "connector":
            assert callable(value)
    assert descriptor.label and descriptor.icon.glyph and descriptor.icon.color.startswith("#")
    assert descriptor.reply_kinds and all(isinstance(k, ReplyKind) for k in descriptor.reply_kinds)
    if not isinstance(descriptor.secrets, Absent):
        assert descriptor.secrets and all(isinstance(f, SecretField) for f in descriptor.secrets)


@pytest.mark.parametrize("descriptor", NETWORKS, ids=lambda d: d.name)
def test_length_rules_are_the_ones_the_counters_use(descriptor: ChannelDescriptor) -> None:
    assert rule_for(descriptor.platform, Visibility.PUBLIC) is descriptor.length_rules.public
    private = descriptor.length_rules.private or descriptor.length_rules.public
    assert rule_for(descriptor.platform, Visibility.PRIVATE) is private


@pytest.mark.parametrize(
    "descriptor",
    [d for d in NETWORKS if isinstance(d.emulator, str)],
    ids=lambda d: d.name,
)
def test_a_named_emulator_exists(descriptor: ChannelDescriptor) -> None:
    assert isinstance(descriptor.emulator, str)
    module, _, attribute = descriptor.emulator.partition(":")
    assert callable(getattr(importlib.import_module(module), attribute))


def test_webhook_endpoints_are_shared_not_repeated() -> None:
    paths = [spec.path for spec in webhook_specs()]
    assert len(paths) == len(set(paths))
    assert descriptor_for(Platform.FACEBOOK).webhooks is descriptor_for(Platform.INSTAGRAM).webhooks
