"""What a new password must be: long enough, and not easy to guess by zxcvbn's offline
estimate (its shipped lists of common passwords, names, words and keyboard patterns)."""

from __future__ import annotations

from collections.abc import Iterable

from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 1024
# zxcvbn scores 0-4; 2 means more than about 10^6 guesses ("somewhat guessable"):
# "password", "12345678", "password123" and "changeme" score 0.
MIN_SCORE = 2
# zxcvbn's matching grows quickly with length; past this a password is long enough that
# its prefix decides.
_ESTIMATED_PREFIX = 100


def password_problem(password: str, user_inputs: Iterable[str] = ()) -> str | None:
    """Why this password is refused, or None. ``user_inputs`` (the e-mail, the name)
    count as known words, so "ada@example.com" does not make a password of "ada2024"."""
    if len(password) < MIN_LENGTH:
        return f"password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"password must be at most {MAX_LENGTH} characters"
    words = [part for value in user_inputs for part in _words(value)]
    result = zxcvbn(password[:_ESTIMATED_PREFIX], user_inputs=words)
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result.get("feedback") or {}
    hints = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
    reason = " ".join(h.strip().rstrip(".") + "." for h in hints if h.strip())
    return "password is too easy to guess" + (f": {reason}" if reason else "")


def _words(value: str) -> list[str]:
    value = value.strip().lower()
    if not value:
        return []
    local = value.split("@", 1)[0]
    return [value, local, *local.replace(".", " ").replace("_", " ").split()]
