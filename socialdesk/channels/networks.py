"""The registry of networks: the only list of them.

Built-in networks come from ``channels/builtin.py`` and from one folder each
(``channels/whatsapp/``); a separately installed package adds one through the
``socialdesk.networks`` entry-point group, whose entries name a ``ChannelDescriptor``
(or a function returning one). Registering a descriptor adds its platform name to
``Platform`` and its length rules to ``domain/length_rules.py``, so the rest of the desk
treats it like any other network.

Importing this module registers them all; ``descriptor_for`` and ``all_networks`` are
what the other layers read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib.metadata import entry_points

from socialdesk.channels.descriptor import Absent, ChannelDescriptor, WebhookSpec
from socialdesk.domain.enums import Platform
from socialdesk.domain.length_rules import register_length_rules

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "socialdesk.networks"

_NETWORKS: dict[str, ChannelDescriptor] = {}


class UnknownNetwork(LookupError):
    """A platform name no registered descriptor carries."""


def register(descriptor: ChannelDescriptor) -> ChannelDescriptor:
    """Make ``descriptor`` the network of its name (a later registration of the same
    name replaces it: a plugin may override a built-in)."""
    if not isinstance(descriptor, ChannelDescriptor):
        raise TypeError(f"not a ChannelDescriptor: {descriptor!r}")
    name = descriptor.name
    register_length_rules(descriptor.length_rules.public, descriptor.length_rules.private)
    _NETWORKS[name] = descriptor
    return descriptor


def _from_entry_points() -> Iterable[ChannelDescriptor]:
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
            yield loaded() if callable(loaded) else loaded
        except Exception:  # a broken plugin must not take the desk down with it
            log.exception("network plugin %s could not be loaded", entry.value)


def _load() -> None:
    from socialdesk.channels.builtin import BUILTIN_NETWORKS
    from socialdesk.channels.whatsapp import DESCRIPTOR as WHATSAPP

    for descriptor in (*BUILTIN_NETWORKS, WHATSAPP, *_from_entry_points()):
        register(descriptor)


def all_networks() -> tuple[ChannelDescriptor, ...]:
    return tuple(_NETWORKS.values())


def descriptor_for(platform: Platform | str) -> ChannelDescriptor:
    try:
        return _NETWORKS[str(platform)]
    except KeyError:
        raise UnknownNetwork(f"no network named {platform!r} is registered") from None


def find_descriptor(platform: Platform | str | None) -> ChannelDescriptor | None:
    return _NETWORKS.get(str(platform)) if platform else None


def webhook_specs() -> tuple[WebhookSpec, ...]:
    """Each webhook endpoint once (Facebook, Messenger and Instagram share Meta's)."""
    seen: dict[str, WebhookSpec] = {}
    for descriptor in _NETWORKS.values():
        spec = descriptor.webhooks
        if not isinstance(spec, Absent):
            seen.setdefault(spec.path, spec)
    return tuple(seen.values())


_load()

__all__ = [
    "ENTRY_POINT_GROUP",
    "UnknownNetwork",
    "all_networks",
    "descriptor_for",
    "find_descriptor",
    "register",
    "webhook_specs",
]

# Every name in Platform has a descriptor: one left out would be a network the desk
# stores but cannot serve.
_missing = [str(p) for p in Platform if str(p) not in _NETWORKS]
if _missing:
    raise RuntimeError(f"platforms without a descriptor: {', '.join(_missing)}")
