from __future__ import annotations

import os

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8

# The test suite hashes hundreds of passwords; argon2's default profile (64 MiB, 3 passes)
# made that most of its run time. SOCIALDESK_PASSWORD_HASHING=cheapest (set by tests only,
# also inherited by the server processes they start) switches to argon2's CHEAPEST profile.
# Read from the environment rather than Settings so the hasher exists at import time.
_PROFILE = os.environ.get("SOCIALDESK_PASSWORD_HASHING", "default")
if _PROFILE not in {"default", "cheapest"}:
    raise RuntimeError(
        f"SOCIALDESK_PASSWORD_HASHING must be 'default' or 'cheapest', not {_PROFILE!r}"
    )
_hasher = (
    PasswordHasher.from_parameters(profiles.CHEAPEST)
    if _PROFILE == "cheapest"
    else PasswordHasher()
)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verified against when the e-mail is unknown, so response time does not reveal which
# addresses have accounts.
DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")
