"""Live updates: an in-process publish/subscribe bus the inbox streams from.

Writes queue their live events on the session (``queue_live_event``); they are
published only after the transaction commits, so nobody sees a change that was
rolled back.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class LiveEvent:
    kind: str
    workspace_id: int | None
    data: dict[str, Any] = field(default_factory=dict)


class LiveBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[LiveEvent]]] = []

    def subscribe(self) -> asyncio.Queue[LiveEvent]:
        queue: asyncio.Queue[LiveEvent] = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._subscribers.append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[LiveEvent]) -> None:
        with self._lock:
            self._subscribers = [(loop, q) for loop, q in self._subscribers if q is not queue]

    def publish(self, item: LiveEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            try:
                loop.call_soon_threadsafe(_offer, queue, item)
            except RuntimeError:  # the subscriber's loop has closed
                self.unsubscribe(queue)


def _offer(queue: asyncio.Queue[LiveEvent], item: LiveEvent) -> None:
    if not queue.full():
        queue.put_nowait(item)


bus = LiveBus()

_KEY = "socialdesk_live_events"


def queue_live_event(session: Session, item: LiveEvent) -> None:
    session.info.setdefault(_KEY, []).append(item)


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    for item in session.info.pop(_KEY, []):
        bus.publish(item)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)
