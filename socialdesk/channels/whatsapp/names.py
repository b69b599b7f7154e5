"""WhatsApp's platform name, added to ``Platform`` when this folder is imported."""

from __future__ import annotations

from socialdesk.domain.enums import register_platform

WHATSAPP = register_platform("WHATSAPP", "whatsapp")
SIGNATURE_HEADER = "x-hub-signature-256"
DEFAULT_API_VERSION = "v21.0"
