"""Webhook signatures of X and Meta, as pure functions.

Everything here hashes the exact bytes it is given: callers pass the raw request body,
never a re-serialised one. Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

X_SIGNATURE_HEADER = "x-twitter-webhooks-signature"
META_SIGNATURE_HEADER = "x-hub-signature-256"
SIGNATURE_PREFIX = "sha256="

# X's crc_token values are short opaque strings. Anything longer, or with characters
# outside printable ASCII, is not from X: signing it would turn the CRC endpoint into
# an oracle that signs forged webhook bodies.
MAX_CRC_TOKEN_LENGTH = 256


def _hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


def constant_time_equals(left: str, right: str) -> bool:
    """Compare two strings without leaking where they differ."""
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))


def is_token_shaped(value: str, max_length: int = MAX_CRC_TOKEN_LENGTH) -> bool:
    """True for a non-empty string of printable, non-space ASCII of bounded length."""
    if not value or len(value) > max_length:
        return False
    return all("!" <= ch <= "~" for ch in value)


def x_crc_response_token(consumer_secret: str, crc_token: str) -> str:
    """``sha256=<base64 HMAC-SHA256(consumer_secret, crc_token)>`` for X's CRC check.

    Raises ``ValueError`` for an empty secret or a crc_token that is not token-shaped.
    """
    if not consumer_secret:
        raise ValueError("no consumer secret configured")
    if not is_token_shaped(crc_token):
        raise ValueError("crc_token is not token-shaped")
    digest = _hmac_sha256(consumer_secret, crc_token.encode("ascii"))
    return SIGNATURE_PREFIX + base64.b64encode(digest).decode("ascii")


def x_signature(consumer_secret: str, raw_body: bytes) -> str:
    """The ``x-twitter-webhooks-signature`` value X sends with ``raw_body``."""
    if not consumer_secret:
        raise ValueError("no consumer secret configured")
    return SIGNATURE_PREFIX + base64.b64encode(_hmac_sha256(consumer_secret, raw_body)).decode(
        "ascii"
    )


def meta_signature(app_secret: str, raw_body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends with ``raw_body`` (lowercase hex)."""
    if not app_secret:
        raise ValueError("no app secret configured")
    return SIGNATURE_PREFIX + _hmac_sha256(app_secret, raw_body).hex()


def appsecret_proof(app_secret: str, access_token: str) -> str:
    """``hex(HMAC-SHA256(app_secret, access_token))`` for Graph API calls."""
    if not app_secret:
        raise ValueError("no app secret configured")
    return _hmac_sha256(app_secret, access_token.encode("utf-8")).hex()


def verify_x_signature(consumer_secret: str, raw_body: bytes, header_value: str | None) -> bool:
    """Whether ``header_value`` is X's signature of ``raw_body``. False when missing."""
    if not consumer_secret or not header_value:
        return False
    return constant_time_equals(x_signature(consumer_secret, raw_body), header_value.strip())


def verify_meta_signature(app_secret: str, raw_body: bytes, header_value: str | None) -> bool:
    """Whether ``header_value`` is Meta's ``X-Hub-Signature-256`` of ``raw_body``.

    Only the hex digits are compared case-insensitively; the ``sha256=`` prefix is
    required.
    """
    if not app_secret or not header_value:
        return False
    value = header_value.strip()
    if not value.startswith(SIGNATURE_PREFIX):
        return False
    received = SIGNATURE_PREFIX + value[len(SIGNATURE_PREFIX) :].lower()
    return constant_time_equals(meta_signature(app_secret, raw_body), received)
