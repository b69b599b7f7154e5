"""Meta's three networks (Facebook, Messenger, Instagram): one Graph connector, webhook
parser, read-back after a crash and the emulator, registered through ``DESCRIPTORS``."""

from socialdesk.channels.meta.descriptor import DESCRIPTORS, FACEBOOK, INSTAGRAM, MESSENGER

__all__ = ["DESCRIPTORS", "FACEBOOK", "INSTAGRAM", "MESSENGER"]
