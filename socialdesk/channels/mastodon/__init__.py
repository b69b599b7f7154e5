"""Mastodon: connector (one per instance) and emulator, registered through
``DESCRIPTORS`` (``channels/networks.py``)."""

from socialdesk.channels.mastodon.descriptor import DESCRIPTOR, DESCRIPTORS

__all__ = ["DESCRIPTOR", "DESCRIPTORS"]
