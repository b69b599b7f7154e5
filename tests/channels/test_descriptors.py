"""Every registered network declares each capability: provided, or Absent with a reason."""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from socialdesk.channels.base import ReplyKind
from socialdesk.channels.descriptor import (
    CAPABILITIES,
    Absent,
    ChannelDescriptor,
    Hiding,
    Icon,
    LengthRules,
    MoveToPrivate,
    PollSpec,
    SecretField,
    WebhookSpec,
)
from socialdesk.channels.networks import (
    ENTRY_POINT_GROUP,
    all_networks,
    descriptor_for,
    from_entry_points,
    webhook_specs,
)
from socialdesk.domain.enums import Platform, Visibility, register_platform
from socialdesk.domain.length_rules import rule_for

NETWORKS = all_networks()


def test_every_platform_has_exactly_one_descriptor() -> None:
    names = [d.name for d in NETWORKS]
    assert sorted(names) == sorted(str(p) for p in Platform)
    assert len(names) == len(set(names))
    assert set(names) >= {
        "x", "facebook", "messenger", "instagram", "mastodon", "bluesky", "email", "web",
        "whatsapp",
    }  # fmt: skip


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
        "hiding": (Hiding,),
        "move_to_private": (MoveToPrivate,),
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
            assert callable(value.composer_hint)
        elif capability == "connector":
            assert callable(value)
        elif capability == "templates":
            assert callable(value.names) and callable(value.fill)
        if capability == "hiding":
            assert value.name and callable(value.hide)
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


@pytest.mark.parametrize(
    "descriptor",
    [d for d in NETWORKS if isinstance(d.emulator, str) and d.platform != Platform.EMAIL],
    ids=lambda d: d.name,
)
def test_the_emulate_command_builds_each_http_emulator_from_its_descriptor(
    descriptor: ChannelDescriptor,
) -> None:
    """``socialdesk emulate NAME`` calls ``factory(secret, webhook_url=...)`` with no secret
    given: each network falls back to its own configured one and serves HTTP."""
    from fastapi.testclient import TestClient

    assert isinstance(descriptor.emulator, str)
    module, _, attribute = descriptor.emulator.partition(":")
    app = getattr(importlib.import_module(module), attribute)(None, webhook_url=None)
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 200


def test_webhook_endpoints_are_shared_not_repeated() -> None:
    paths = [spec.path for spec in webhook_specs()]
    assert len(paths) == len(set(paths))
    assert descriptor_for(Platform.FACEBOOK).webhooks is descriptor_for(Platform.INSTAGRAM).webhooks


PLUGIN = """
from socialdesk.channels.base import ReplyKind
from socialdesk.channels.descriptor import Absent, ChannelDescriptor, Icon, LengthRules
from socialdesk.domain.enums import register_platform
from socialdesk.domain.length_rules import LengthRule, code_point_length

FAX = register_platform("FAXLINE", "faxline")
DESCRIPTOR = ChannelDescriptor(
    platform=FAX, label="Fax line", icon=Icon("fx", "#333"),
    secrets=Absent("a fax line needs no sign-in"),
    length_rules=LengthRules(LengthRule(FAX, "characters", 1800, code_point_length)),
    messaging_window=Absent("faxes go out any time"),
    reply_kinds=(ReplyKind.DIRECT_MESSAGE,),
    webhooks=Absent("none"), poller=Absent("none"),
    connector=Absent("sent by hand"), emulator=Absent("none"),
    hiding=Absent("a fax is private"), move_to_private=Absent("a fax is private"),
)
"""

PROBE = """
from socialdesk.channels.networks import descriptor_for
from socialdesk.domain.enums import Platform
from socialdesk.domain.length_rules import check_length
from socialdesk.web.pages.settings.channels import CREDENTIALS
print(descriptor_for("faxline").label, Platform("faxline").name, "faxline" in CREDENTIALS,
      check_length("x" * 1801, Platform("faxline")).fits)
"""


def test_an_installed_package_adds_a_network_through_the_entry_point_group(
    tmp_path: Path,
) -> None:
    """A separately installed package (here a dist-info on the path) registers its
    network: the platform name, its rules and its form entry, with no edit of ours."""
    (tmp_path / "faxline_plugin.py").write_text(PLUGIN)
    info = tmp_path / "socialdesk_faxline-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: socialdesk-faxline\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nfaxline = faxline_plugin:DESCRIPTOR\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()])}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Fax", "line", "FAXLINE", "True", "False"]


def test_register_platform_refuses_clashes() -> None:
    assert register_platform("WHATSAPP", "whatsapp") is Platform("whatsapp")
    with pytest.raises(ValueError):
        register_platform("X", "x-two")
    with pytest.raises(ValueError):
        register_platform("LOUD", "Loud")


# The network folders and what each registers; everything else in channels/ is shared.
FOLDERS = {
    "x": ["x"],
    "meta": ["facebook", "messenger", "instagram"],
    "mastodon": ["mastodon"],
    "bluesky": ["bluesky"],
    "email": ["email"],
    "webform": ["web"],
    "whatsapp": ["whatsapp"],
}
SHARED_MODULES = {
    "__init__", "accounts", "base", "descriptor", "emulator_core", "emulator_search",
    "health", "networks", "registry", "search", "signatures",
}  # fmt: skip


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_a_network_is_one_folder(folder: str) -> None:
    """Each built-in folder exports the descriptors of its networks, and their connector
    factory and emulator live in that folder."""
    package = importlib.import_module(f"socialdesk.channels.{folder}")
    descriptors = package.DESCRIPTORS
    assert [d.name for d in descriptors] == FOLDERS[folder]
    for descriptor in descriptors:
        assert descriptor_for(descriptor.platform) is descriptor
        if not isinstance(descriptor.connector, Absent):
            assert descriptor.connector.__module__.startswith(package.__name__ + ".")
        if isinstance(descriptor.emulator, str):
            assert descriptor.emulator.startswith(package.__name__ + ".")


def test_channels_holds_only_shared_modules_beside_the_folders() -> None:
    root = Path(importlib.import_module("socialdesk.channels").__file__ or "").parent
    modules = {p.stem for p in root.glob("*.py")}
    folders = {p.name for p in root.iterdir() if (p / "__init__.py").is_file()}
    assert modules == SHARED_MODULES
    assert folders == set(FOLDERS)
    assert sorted(n for names in FOLDERS.values() for n in names) == sorted(
        d.name for d in NETWORKS
    )


def _entry(value: str) -> EntryPoint:
    return EntryPoint(name=value, value=value, group=ENTRY_POINT_GROUP)


def test_the_entry_point_loader_takes_descriptors_factories_and_tuples() -> None:
    """``from_entry_points`` on distribution-less entry points: a descriptor, a folder's
    tuple of them and a function returning one are all accepted."""
    found = from_entry_points(
        [
            _entry("socialdesk.channels.x:DESCRIPTOR"),
            _entry("socialdesk.channels.meta:DESCRIPTORS"),
            _entry("tests.channels.test_descriptors:_mastodon_factory"),
        ]
    )
    assert [d.name for d in found] == ["x", "facebook", "messenger", "instagram", "mastodon"]


def _mastodon_factory() -> ChannelDescriptor:
    return descriptor_for("mastodon")


NOT_A_DESCRIPTOR = {"platform": "faxline"}


def test_a_broken_plugin_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="socialdesk.channels.networks"):
        found = from_entry_points(
            [
                _entry("socialdesk_no_such_plugin:DESCRIPTOR"),
                _entry("tests.channels.test_descriptors:NOT_A_DESCRIPTOR"),
                _entry("socialdesk.channels.webform:DESCRIPTOR"),
            ]
        )
    assert [d.name for d in found] == ["web"]
    failed = [r.getMessage() for r in caplog.records]
    assert len(failed) == 2
    assert "socialdesk_no_such_plugin:DESCRIPTOR" in failed[0]
    assert "NOT_A_DESCRIPTOR" in failed[1]


def test_networks_answered_by_email_are_the_e_mail_only_ones() -> None:
    """The "social" networks (SLA queue order, the out-of-hours rule) and the ones whose
    customers are answered by e-mail (personal-data guard, stated addresses) come from
    the descriptors' reply kinds, so a new network falls on the right side."""
    from socialdesk.channels.networks import answers_by_email, social_networks

    assert [d.name for d in NETWORKS if answers_by_email(d.platform)] == ["email", "web"]
    assert social_networks() == sorted(
        ["x", "facebook", "messenger", "instagram", "mastodon", "bluesky", "whatsapp"]
    )
    assert not answers_by_email("no-such-network") and not answers_by_email(None)
