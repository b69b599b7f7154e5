"""X (Twitter): connector, Account Activity parser, polling, OAuth 2.0 refresh and the
emulator, registered through ``DESCRIPTORS`` (``channels/networks.py``)."""

from socialdesk.channels.x.descriptor import DESCRIPTOR, DESCRIPTORS

__all__ = ["DESCRIPTOR", "DESCRIPTORS"]
