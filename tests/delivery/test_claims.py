"""Several delivery workers on one database: every outbox row is claimed by one of them,
a row stays its worker's while the heartbeat renews the lease, and a dead worker's row
is taken over once the lease runs out (looked up on the network before resending)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from socialdesk.actions import tickets as ticket_actions
from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.config import Settings
from socialdesk.delivery.worker import DeliveryPolicy, DeliveryWorker
from socialdesk.domain.enums import Role
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import OutboxEntry, Ticket
from tests.delivery.helpers import eventually
from tests.pipeline.helpers import ingest, make_account, post


def _replies(db: Database, count: int) -> list[int]:
    account = make_account(db)
    ingest(db, *(post(account, f"c{n}", f"help {n}", author=f"u{n}") for n in range(count)))
    with db.write() as s:
        workspace = ensure_workspace(s)
        agent = create_user(s, "agent@ex.com", "horse battery", Role.AGENT, workspace=workspace)
        for ticket in s.scalars(select(Ticket).order_by(Ticket.id)):
            ticket_actions.reply(s, ticket, agent, f"on it, ticket {ticket.id}")
    with db.session() as s:
        return list(s.scalars(select(OutboxEntry.id).order_by(OutboxEntry.id)))


def _worker(
    db: Database, seconds: float = 15, clock: Callable[[], datetime] = utcnow
) -> DeliveryWorker:
    policy = DeliveryPolicy(claim_for=timedelta(seconds=seconds))
    return DeliveryWorker(db, ConnectorRegistry(Settings()), policy=policy, clock=clock)


def test_concurrent_claims_take_every_row_exactly_once(db: Database) -> None:
    rows = _replies(db, 120)
    workers = 6
    start = threading.Barrier(workers)
    claimed: list[list[int]] = [[] for _ in range(workers)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        worker = _worker(db)
        try:
            start.wait()
            while batch := worker.claim(limit=7):
                claimed[index].extend(c.entry_id for c in batch)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    everything = [row for mine in claimed for row in mine]
    assert sorted(everything) == rows  # each row once: none twice, none missed
    with db.session() as s:
        assert set(s.scalars(select(OutboxEntry.state))) == {"sending"}


def test_a_renewed_lease_keeps_the_row_and_an_expired_one_is_taken_over(db: Database) -> None:
    [row] = _replies(db, 1)
    base = utcnow()
    offset = [timedelta()]
    first = _worker(db, seconds=10, clock=lambda: base + offset[0])
    [claim] = first.claim()
    assert claim.lease is not None and claim.lease.holds(row)

    offset[0] = timedelta(seconds=8)  # the worker is still on it: its heartbeat renews
    assert claim.lease.renew() == 1
    assert _worker(db, clock=lambda: base + timedelta(seconds=12)).claim() == []

    # The worker dies: no more heartbeats. Once the lease has run out another takes
    # the row over, as a resumed send that looks the post up before sending again.
    [taken] = _worker(db, clock=lambda: base + timedelta(seconds=19)).claim()
    assert taken.entry_id == row and taken.resumed and taken.may_be_posted
    assert not claim.lease.holds(row)  # the first worker, if it was only stalled, stops
    assert claim.lease.renew() == 0  # and cannot take the row back


def test_the_heartbeat_renews_while_the_worker_is_on_the_rows(db: Database) -> None:
    [row] = _replies(db, 1)
    [claim] = _worker(db, seconds=0.6).claim()
    assert claim.lease is not None
    first = claim.lease.until

    def claimed_until() -> datetime | None:
        with db.session() as s:
            return s.scalar(select(OutboxEntry.claimed_until).where(OutboxEntry.id == row))

    with claim.lease:
        eventually(lambda: (claimed_until() or first) > first, timeout=10)
        assert claim.lease.holds(row)
