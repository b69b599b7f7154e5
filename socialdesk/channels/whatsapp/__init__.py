"""WhatsApp Business (Cloud API): everything the desk knows about it is in this folder,
registered through ``DESCRIPTOR`` (``channels/networks.py``)."""

from socialdesk.channels.whatsapp.descriptor import DESCRIPTOR, DESCRIPTORS

__all__ = ["DESCRIPTOR", "DESCRIPTORS"]
