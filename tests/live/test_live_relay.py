"""Live events cross processes through the feed: what another process commits reaches
this process's pages; rolled-back changes and our own events are not relayed twice."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from socialdesk.live import LiveBus, LiveEvent, LiveRelay, origin, queue_live_event
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import LiveFeedEntry

ANOTHER_PROCESS = """
import sys
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.db import Database
db = Database(sys.argv[1])
with db.write() as s:
    queue_live_event(s, LiveEvent("message.delivery", 1, {"ticket_id": 7, "state": "sent"}))
"""


class Recorder(LiveBus):
    """A bus that also keeps what was published, for the assertions."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[LiveEvent] = []

    def publish(self, item: LiveEvent) -> None:
        self.seen.append(item)
        super().publish(item)


def _feed_count(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(LiveFeedEntry)) or 0)


def test_an_event_committed_by_another_process_is_relayed(db: Database) -> None:
    sink = Recorder()
    relay = LiveRelay(db, sink)
    assert relay.poll_once() == 0  # starts at the end of the feed
    subprocess.run([sys.executable, "-c", ANOTHER_PROCESS, db.url], check=True, timeout=60)
    assert relay.poll_once() == 1
    assert sink.seen == [LiveEvent("message.delivery", 1, {"ticket_id": 7, "state": "sent"})]
    assert relay.poll_once() == 0  # nothing twice


def test_own_events_are_written_but_not_relayed_back(db: Database) -> None:
    sink = Recorder()
    relay = LiveRelay(db, sink)
    relay.poll_once()
    with db.write() as s:
        queue_live_event(s, LiveEvent("ticket.updated", 1, {"ticket_id": 3, "change": "assigned"}))
    assert _feed_count(db) == 1
    with db.session() as s:
        assert s.scalar(select(LiveFeedEntry.origin)) == origin()
    assert relay.poll_once() == 0
    assert sink.seen == []


def test_a_rolled_back_change_leaves_nothing_on_the_feed(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as s:
        queue_live_event(s, LiveEvent("ticket.updated", 1, {"ticket_id": 3}))
        raise RuntimeError("the write failed")
    assert _feed_count(db) == 0


def test_odd_payloads_are_stored_as_text(db: Database) -> None:
    with db.write() as s:
        queue_live_event(s, LiveEvent("ticket.updated", 1, {"at": utcnow(), "ids": (1, 2)}))
    with db.session() as s:
        data = s.scalar(select(LiveFeedEntry.data))
    assert isinstance(data["at"], str) and data["ids"] == [1, 2]


def test_old_entries_are_pruned(db: Database) -> None:
    for _ in range(3):
        with db.write() as s:
            queue_live_event(s, LiveEvent("ticket.updated", 1, {}))
    with db.write() as s:
        oldest = s.scalar(select(func.min(LiveFeedEntry.id)))
        s.execute(
            update(LiveFeedEntry)
            .where(LiveFeedEntry.id == oldest)
            .values(created_at=utcnow() - LiveRelay.KEEP - timedelta(minutes=1))
        )
    assert LiveRelay(db).prune() == 1
    assert _feed_count(db) == 2


WRITERS = """
import sys
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.db import Database
db = Database(sys.argv[1])
for n in range(int(sys.argv[3])):
    with db.write() as s:
        queue_live_event(s, LiveEvent("ticket.updated", 1, {"writer": sys.argv[2], "n": n}))
"""


def test_every_event_of_concurrent_writers_is_relayed_once(db: Database) -> None:
    # Writers commit concurrently: on PostgreSQL one transaction can take a feed id
    # before another and commit after it, which a reader going by id would skip.
    sink = Recorder()
    relay = LiveRelay(db, sink)
    relay.poll_once()
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITERS, db.url, name, "40"])
        for name in ("a", "b", "c")
    ]
    while any(w.poll() is None for w in writers):
        relay.poll_once()
    assert [w.returncode for w in writers] == [0, 0, 0]
    while relay.poll_once():
        pass
    seen = sorted((e.data["writer"], e.data["n"]) for e in sink.seen)
    assert seen == sorted((w, n) for w in "abc" for n in range(40))
