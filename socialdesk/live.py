"""Live updates: a publish/subscribe bus the inbox streams from, shared by processes.

Writes queue their live events on the session (``queue_live_event``). The events are
written to the ``live_feed`` table in the same transaction and published to this
process's pages after the commit, so nobody sees a change that was rolled back. Every
server process runs a ``LiveRelay`` that publishes what other processes (a separate
``socialdesk worker``, a second server) committed:

* on PostgreSQL through ``LISTEN/NOTIFY``: the same transaction sends each event on the
  ``socialdesk_live`` channel, which PostgreSQL delivers at commit, in commit order, and
  never for a rollback. Reading the table by id instead would miss an event whose
  transaction took its id before another's and committed after it;
* on SQLite (one writer at a time, so ids commit in order) by reading the feed a few
  times a second.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, event, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from socialdesk.background import BackgroundWorker
from socialdesk.store.db import utcnow
from socialdesk.store.models import LiveFeedEntry

if TYPE_CHECKING:
    from socialdesk.store.db import Database

log = logging.getLogger(__name__)


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

    def subscriber_count(self) -> int:
        """Open subscriptions (live streams of inbox pages) in this process."""
        with self._lock:
            return len(self._subscribers)

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
CHANNEL = "socialdesk_live"
NOTIFY_LIMIT = 7900


def queue_live_event(session: Session, item: LiveEvent) -> None:
    session.info.setdefault(_KEY, []).append(item)


_origin: tuple[int, str] | None = None


def origin() -> str:
    """This process, as written on the feed (a forked child is a new origin)."""
    global _origin
    if _origin is None or _origin[0] != os.getpid():
        _origin = (os.getpid(), f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}")
    return _origin[1]


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    # Live payloads are small dicts of ids and names; anything odd becomes its text.
    result: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return result


@event.listens_for(Session, "before_commit")
def _write_to_feed(session: Session) -> None:
    items: list[LiveEvent] = session.info.get(_KEY, [])
    if not items:
        return
    now = utcnow()
    rows = [
        {
            "origin": origin(),
            "workspace_id": item.workspace_id,
            "kind": item.kind,
            "data": _jsonable(item.data),
            "created_at": now,
        }
        for item in items
    ]
    session.execute(insert(LiveFeedEntry), rows)
    if session.get_bind().dialect.name == "postgresql":
        payloads = []
        for row in rows:
            payload = json.dumps({k: v for k, v in row.items() if k != "created_at"})
            if len(payload.encode()) > NOTIFY_LIMIT:  # PostgreSQL refuses 8000 bytes and up
                log.warning(
                    "live event %s too large to relay (%d bytes)", row["kind"], len(payload)
                )
                continue
            payloads.append(payload)
        if payloads:
            # Delivered to the listeners when (and only if) this transaction commits.
            session.execute(
                text("SELECT pg_notify(:channel, p) FROM unnest(CAST(:payloads AS text[])) AS p"),
                {"channel": CHANNEL, "payloads": payloads},
            )


def write_live_events(conn: Connection, items: list[LiveEvent]) -> None:
    """Live events of a write that holds only a Connection (the inbound pipeline's steps).

    Written to the feed (and NOTIFY on PostgreSQL) in the caller's transaction under an
    origin that is not this process's, so this process's own ``LiveRelay`` publishes
    them too, and only once the transaction has committed."""
    if not items:
        return
    now = utcnow()
    rows = [
        {
            "origin": f"{origin()}:pipeline",
            "workspace_id": item.workspace_id,
            "kind": item.kind,
            "data": _jsonable(item.data),
            "created_at": now,
        }
        for item in items
    ]
    conn.execute(insert(LiveFeedEntry), rows)
    if conn.dialect.name == "postgresql":
        payloads = [json.dumps({k: v for k, v in row.items() if k != "created_at"}) for row in rows]
        conn.execute(
            text("SELECT pg_notify(:channel, p) FROM unnest(CAST(:payloads AS text[])) AS p"),
            {"channel": CHANNEL, "payloads": [p for p in payloads if len(p) <= NOTIFY_LIMIT]},
        )


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    for item in session.info.pop(_KEY, []):
        bus.publish(item)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)


class LiveRelay(BackgroundWorker):
    """Publishes to this process's pages the live events other processes committed.

    On SQLite it polls the feed (one indexed range read) a few times a second; on
    PostgreSQL it listens on ``CHANNEL`` on a connection of its own and wakes as soon
    as a notification comes. Rows older than ``KEEP`` are pruned now and then, since a
    page that was away that long reloads.
    """

    KEEP = timedelta(minutes=10)
    PRUNE_EVERY_SECONDS = 60.0
    BATCH = 500

    name = "live-relay"
    join_timeout = 5.0

    def __init__(self, db: Database, target: LiveBus | None = None, interval: float = 0.5):
        super().__init__()
        self.db = db
        self.target = target or bus
        self.interval = interval
        self.last_id: int | None = None
        self._last_prune = time.monotonic()
        self._listener: Any = None  # psycopg.Connection, LISTENing (PostgreSQL only)
        self._listen_seconds = 0.2
        if not db.is_sqlite:
            # A pass waits on the listening connection itself: no sleep between passes.
            self._listen_seconds, self.interval = interval, 0.0

    def poll_once(self) -> int:
        """Publish what is new on the feed from other processes; how many were published."""
        if not self.db.is_sqlite:
            return self._receive(self._listen_seconds)
        with self.db.session() as session:
            if self.last_id is None:  # start at the end: earlier events were for earlier pages
                self.last_id = session.scalar(select(func.max(LiveFeedEntry.id))) or 0
                return 0
            rows = session.execute(
                select(
                    LiveFeedEntry.id,
                    LiveFeedEntry.origin,
                    LiveFeedEntry.workspace_id,
                    LiveFeedEntry.kind,
                    LiveFeedEntry.data,
                )
                .where(LiveFeedEntry.id > self.last_id)
                .order_by(LiveFeedEntry.id)
                .limit(self.BATCH)
            ).all()
        mine = origin()
        published = 0
        for row in rows:
            self.last_id = row.id
            if row.origin != mine:
                self.target.publish(LiveEvent(row.kind, row.workspace_id, dict(row.data or {})))
                published += 1
        return published

    def _receive(self, wait: float) -> int:
        import psycopg

        if self._listener is None or self._listener.closed:
            # Start listening: what was committed before is for earlier pages.
            url = make_url(self.db.url).set(drivername="postgresql")
            self._listener = psycopg.connect(
                url.render_as_string(hide_password=False), autocommit=True
            )
            self._listener.execute(f"LISTEN {CHANNEL}")
            return 0
        mine = origin()
        published = 0
        try:
            for note in self._listener.notifies(timeout=wait, stop_after=self.BATCH):
                row = json.loads(note.payload)
                if row.get("origin") != mine:
                    event = LiveEvent(row["kind"], row.get("workspace_id"), row.get("data") or {})
                    self.target.publish(event)
                    published += 1
        except psycopg.Error:
            # The connection dropped: listen again on the next pass (events committed
            # meanwhile are not relayed; pages resynchronise when they reload).
            self._close_listener()
            raise
        return published

    def _close_listener(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            finally:
                self._listener = None

    def stop(self) -> None:
        super().stop()
        self._close_listener()

    def prune(self) -> int:
        with self.db.write() as session:
            result = session.execute(
                delete(LiveFeedEntry).where(LiveFeedEntry.created_at < utcnow() - self.KEEP)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def run_pass(self) -> bool:
        if time.monotonic() - self._last_prune >= self.PRUNE_EVERY_SECONDS:
            self._last_prune = time.monotonic()
            self.prune()
        return self.poll_once() >= self.BATCH  # a full batch: more may be waiting
