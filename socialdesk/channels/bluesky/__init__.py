"""Bluesky: connector (notifications, replies posted once, chat DMs, threadgate hiding)
and emulator, registered through ``DESCRIPTORS`` (``channels/networks.py``)."""

from socialdesk.channels.bluesky.descriptor import DESCRIPTOR, DESCRIPTORS

__all__ = ["DESCRIPTOR", "DESCRIPTORS"]
