"""Who else has a ticket open, and who is typing on it (collision warnings).

Kept in memory: presence is seconds-fresh and worthless after a restart. With several
server processes each sees only its own viewers; a shared store would be the next step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from threading import Lock

VIEW_TTL_SECONDS = 15.0
TYPING_TTL_SECONDS = 8.0


@dataclass
class Presence:
    user_id: int
    label: str
    seen: float
    typing_until: float


_lock = Lock()
_by_ticket: dict[int, dict[int, Presence]] = {}


def touch(ticket_id: int, user_id: int, label: str, *, typing: bool) -> bool:
    """Record a heartbeat; True when what others should see changed."""
    now = time.monotonic()
    with _lock:
        here = _by_ticket.setdefault(ticket_id, {})
        before = here.get(user_id)
        was_typing = before is not None and before.typing_until > now
        typing_until = now + TYPING_TTL_SECONDS if typing else 0.0
        here[user_id] = Presence(user_id, label, now, typing_until)
        return before is None or now - before.seen > VIEW_TTL_SECONDS or was_typing != typing


def leave(ticket_id: int, user_id: int) -> None:
    with _lock:
        _by_ticket.get(ticket_id, {}).pop(user_id, None)


def others(ticket_id: int, user_id: int) -> list[tuple[str, bool]]:
    """(label, typing) for everyone else currently on the ticket."""
    now = time.monotonic()
    with _lock:
        here = _by_ticket.get(ticket_id, {})
        for uid in [u for u, p in here.items() if now - p.seen > VIEW_TTL_SECONDS]:
            del here[uid]
        return sorted((p.label, p.typing_until > now) for uid, p in here.items() if uid != user_id)
