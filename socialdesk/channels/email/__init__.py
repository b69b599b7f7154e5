"""E-mail: IMAP/SMTP connector, message parsing and the mailbox emulator (real IMAP and
SMTP servers on loopback), registered through ``DESCRIPTORS``."""

from socialdesk.channels.email.descriptor import DESCRIPTOR, DESCRIPTORS

__all__ = ["DESCRIPTOR", "DESCRIPTORS"]
