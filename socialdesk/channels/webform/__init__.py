"""The web form: submissions arrive on the desk's own page (``web/webform.py``); the
connector and descriptor are here, registered through ``DESCRIPTORS``."""

from socialdesk.channels.webform.descriptor import DESCRIPTOR, DESCRIPTORS

__all__ = ["DESCRIPTOR", "DESCRIPTORS"]
