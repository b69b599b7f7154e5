"""The SQLite inbox spool: deliveries committed beside the database, moved into
raw_events once and only once, even when the mover dies between move and forget."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from socialdesk.pipeline.raw_events import drain_inbox
from socialdesk.store.db import Database
from socialdesk.store.inbox_spool import InboxSpool
from socialdesk.store.migrate import upgrade
from socialdesk.store.models import RawEvent

WHEN = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)


def _rows(n: int, start: int = 0) -> list[tuple[str, int | None, dict[str, str], str]]:
    return [
        ("hooks:x", None, {"content-type": "application/json"}, f'{{"n": {start + i}}}')
        for i in range(n)
    ]


def test_append_reads_back_in_order_and_forget_removes(tmp_path: Path) -> None:
    spool = InboxSpool(str(tmp_path / "s.db-inbox"))
    ids = spool.append(_rows(3), WHEN)
    assert ids == sorted(ids) and len(set(ids)) == 3
    waiting = spool.oldest(10)
    assert [d.id for d in waiting] == ids
    assert [d.body for d in waiting] == ['{"n": 0}', '{"n": 1}', '{"n": 2}']
    assert waiting[0].received_at == WHEN and waiting[0].received_at.tzinfo is not None
    assert waiting[0].headers == {"content-type": "application/json"}
    assert [d.id for d in spool.oldest(2)] == ids[:2]
    spool.forget(ids[:2])
    assert spool.count() == 1
    spool.close()


def test_ids_are_never_handed_out_twice(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db-inbox")
    spool = InboxSpool(path)
    first = spool.append(_rows(2), WHEN)
    spool.forget(first)
    spool.close()
    reopened = InboxSpool(path)
    (again,) = reopened.append(_rows(1), WHEN)
    assert again > max(first)
    reopened.close()


def test_committed_deliveries_survive_a_new_connection(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db-inbox")
    InboxSpool(path).append(_rows(4), WHEN)  # never closed, as when a process dies
    assert InboxSpool(path).count() == 4


class _ForgetFails(InboxSpool):
    """A mover that dies after moving and before forgetting."""

    def forget(self, ids: Sequence[int]) -> None:
        raise RuntimeError("killed between move and forget")


@pytest.fixture
def file_db(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'drain.db'}"
    upgrade(url)
    return Database(url)


def test_drain_moves_each_delivery_once_even_after_a_crash(file_db: Database) -> None:
    spool = file_db.inbox_spool
    assert spool is not None
    ids = spool.append(_rows(5), WHEN)

    file_db.inbox_spool = _ForgetFails(spool.path)
    with pytest.raises(RuntimeError):
        drain_inbox(file_db)
    file_db.inbox_spool = spool
    assert spool.count() == 5  # the crash forgot nothing

    spool.append(_rows(2, start=5), WHEN)
    assert drain_inbox(file_db) == 7
    assert spool.count() == 0 and drain_inbox(file_db) == 0
    with file_db.session() as s:
        raws = s.scalars(select(RawEvent).order_by(RawEvent.id)).all()
    assert [r.body for r in raws] == [f'{{"n": {i}}}' for i in range(7)]
    assert [r.inbox_id for r in raws[:5]] == ids
    assert {r.status for r in raws} == {"pending"} and raws[0].received_at == WHEN
    file_db.dispose()


def test_drain_takes_at_most_its_limit(file_db: Database) -> None:
    spool = file_db.inbox_spool
    assert spool is not None
    spool.append(_rows(5), WHEN)
    assert drain_inbox(file_db, limit=3) == 3
    assert spool.count() == 2
    file_db.dispose()


def test_in_memory_database_has_no_spool() -> None:
    db = Database("sqlite:///:memory:")
    assert db.inbox_spool is None and drain_inbox(db) == 0
    db.dispose()


def test_a_new_database_sets_aside_the_spool_of_a_deleted_one(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    InboxSpool(f"{path}-inbox").append(_rows(2), WHEN)  # its database was deleted

    upgrade(f"sqlite:///{path}")

    fresh = Database(f"sqlite:///{path}")
    assert fresh.inbox_spool is not None and drain_inbox(fresh) == 0
    with fresh.session() as s:
        assert s.scalars(select(RawEvent)).all() == []
    fresh.dispose()
    (orphan,) = [
        p
        for p in tmp_path.iterdir()
        if p.name.startswith("desk.db-inbox-orphaned-") and not p.name.endswith(("-wal", "-shm"))
    ]
    assert InboxSpool(str(orphan)).count() == 2  # kept, not lost


def test_migrating_an_existing_database_keeps_its_spool(file_db: Database) -> None:
    spool = file_db.inbox_spool
    assert spool is not None
    spool.append(_rows(3), WHEN)
    upgrade(file_db.url)
    assert spool.count() == 3 and drain_inbox(file_db) == 3
    file_db.dispose()
