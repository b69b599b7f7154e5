"""Posts per hour by network and service levels met per day, from the ticket event log,
on the real database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from socialdesk.domain.enums import Platform, TicketEventKind
from socialdesk.reports.activity import (
    hour_starts,
    inbound_per_hour,
    sla_attainment_per_day,
)
from socialdesk.store.db import Database
from socialdesk.store.models import Ticket, TicketEvent
from tests.pipeline.helpers import ingest, make_account, post

NOW = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)


def _post_at(db: Database, account: int, pid: str, at: datetime, platform: Platform) -> int:
    message = post(account, pid, "where is my parcel?", author=f"c{pid}", platform=platform)
    ingest(db, replace(message, created_at=at))
    with db.session() as s:
        return int(s.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)))


def test_hour_starts_end_with_the_current_hour() -> None:
    starts = hour_starts(NOW, 3)
    assert starts == [
        datetime(2026, 11, 23, 16, tzinfo=UTC),
        datetime(2026, 11, 23, 17, tzinfo=UTC),
        datetime(2026, 11, 23, 18, tzinfo=UTC),
    ]


def test_posts_per_hour_by_network(db: Database) -> None:
    x = make_account(db)
    fb = make_account(db, Platform.FACEBOOK, "AcmePage")
    _post_at(db, x, "1", NOW - timedelta(minutes=5), Platform.X)
    _post_at(db, x, "2", NOW - timedelta(minutes=20), Platform.X)
    _post_at(db, fb, "3", NOW - timedelta(hours=2, minutes=1), Platform.FACEBOOK)
    _post_at(db, x, "4", NOW - timedelta(hours=30), Platform.X)  # outside the window
    _post_at(db, x, "5", NOW + timedelta(minutes=5), Platform.X)  # clock skew: not yet
    with db.session() as s:
        volume = inbound_per_hour(s, [1], NOW)
    assert len(volume.hours) == 24
    assert volume.hours[-1] == datetime(2026, 11, 23, 18, tzinfo=UTC)
    assert volume.by_network["x"][-1] == 2
    assert volume.by_network["facebook"][-3] == 1
    assert volume.total == 3


def test_attainment_per_day_counts_met_and_missed(db: Database) -> None:
    account = make_account(db)
    ticket_id = _post_at(db, account, "1", NOW - timedelta(days=1), Platform.X)
    events = [
        (TicketEventKind.SLA_FULFILLED, NOW - timedelta(hours=1), {"breached": False}),
        (TicketEventKind.SLA_FULFILLED, NOW - timedelta(hours=2), {"breached": False}),
        (TicketEventKind.SLA_FULFILLED, NOW - timedelta(hours=3), {"breached": True}),
        (TicketEventKind.SLA_BREACHED, NOW - timedelta(hours=4), {}),
        (TicketEventKind.SLA_BREACHED, NOW - timedelta(days=1, hours=1), {}),
        (TicketEventKind.SLA_FULFILLED, NOW - timedelta(days=9), {"breached": False}),
        (TicketEventKind.SLA_WARNING, NOW - timedelta(hours=1), {}),
    ]
    with db.write() as s:
        for kind, at, data in events:
            s.add(
                TicketEvent(
                    ticket_id=ticket_id,
                    workspace_id=1,
                    kind=str(kind),
                    actor="system",
                    data=data,
                    created_at=at,
                )
            )
    with db.session() as s:
        days = sla_attainment_per_day(s, [1], NOW)
    assert [d.day.day for d in days] == [17, 18, 19, 20, 21, 22, 23]
    today, yesterday = days[-1], days[-2]
    assert (today.met, today.missed) == (2, 1)
    assert today.share_met == 2 / 3
    assert (yesterday.met, yesterday.missed) == (0, 1)
    assert days[0].share_met is None
