"""Encrypts channel secrets (tokens, app passwords) with Fernet before they are stored.

The key comes from ``SOCIALDESK_SECRET_KEY`` or, on a single-machine install, a key
file created on first use with owner-only permissions.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from socialdesk.config import get_settings


class SecretBoxError(Exception):
    pass


def _load_or_create_key(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


@lru_cache(maxsize=4)
def _fernet(key: str | None, key_file: str) -> Fernet:
    raw = key.encode() if key else _load_or_create_key(Path(key_file))
    try:
        return Fernet(raw)
    except ValueError as exc:
        raise SecretBoxError(
            "SOCIALDESK_SECRET_KEY must be 32 url-safe base64-encoded bytes "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        ) from exc


def _box() -> Fernet:
    settings = get_settings()
    return _fernet(settings.secret_key, str(settings.secret_key_file))


def encrypt_secrets(values: dict[str, str]) -> bytes:
    return _box().encrypt(json.dumps(values, sort_keys=True).encode())


def decrypt_secrets(ciphertext: bytes | None) -> dict[str, str]:
    if not ciphertext:
        return {}
    try:
        data: dict[str, str] = json.loads(_box().decrypt(ciphertext))
    except InvalidToken as exc:
        raise SecretBoxError("channel secrets cannot be decrypted with the configured key") from exc
    return data
