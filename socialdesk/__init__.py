"""socialdesk: an open-source social customer service desk."""

__version__ = "0.1.0"
