"""The registry of networks: the only list of them.

Built-in networks are one folder each (``channels/x/``, ``meta/``, ``mastodon/``,
``bluesky/``, ``email/``, ``webform/``, ``whatsapp/``), each exporting ``DESCRIPTORS``
(Meta's folder has three); a separately installed package adds one through the
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
from importlib.metadata import EntryPoint, entry_points

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


def from_entry_points(entries: Iterable[EntryPoint] | None = None) -> list[ChannelDescriptor]:
    """The descriptors installed packages name in the ``socialdesk.networks`` group: an
    entry names a ``ChannelDescriptor``, a function returning one, or a tuple of them
    (a folder's ``DESCRIPTORS``). An entry that fails to load or names something else is
    logged and skipped: a broken plugin must not take the desk down with it."""
    found: list[ChannelDescriptor] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP) if entries is None else entries:
        try:
            loaded = entry.load()
            value = loaded() if callable(loaded) else loaded
            values = tuple(value) if isinstance(value, tuple | list) else (value,)
            bad = [v for v in values if not isinstance(v, ChannelDescriptor)]
            if bad or not values:
                raise TypeError(f"not a ChannelDescriptor: {bad[0] if bad else value!r}")
        except Exception:
            log.exception("network plugin %s could not be loaded", entry.value)
            continue
        found.extend(values)
    return found


def _load() -> None:
    from socialdesk.channels import bluesky, email, mastodon, meta, webform, whatsapp, x

    built_in = (x, meta, mastodon, bluesky, email, webform, whatsapp)
    for descriptor in (
        *(d for folder in built_in for d in folder.DESCRIPTORS),
        *from_entry_points(),
    ):
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


def answers_by_email(platform: Platform | str | None) -> bool:
    """Whether this network's replies are e-mails (``ChannelDescriptor.answers_by_email``);
    False for an unknown name."""
    descriptor = find_descriptor(platform)
    return descriptor is not None and descriptor.answers_by_email


def social_networks() -> list[str]:
    """The names of the networks whose replies are not e-mails, sorted."""
    return sorted(d.name for d in _NETWORKS.values() if not d.answers_by_email)


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
    "answers_by_email",
    "descriptor_for",
    "find_descriptor",
    "from_entry_points",
    "register",
    "social_networks",
    "webhook_specs",
]

# Every name in Platform has a descriptor: one left out would be a network the desk
# stores but cannot serve.
_missing = [str(p) for p in Platform if str(p) not in _NETWORKS]
if _missing:
    raise RuntimeError(f"platforms without a descriptor: {', '.join(_missing)}")
