from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from socialdesk.pipeline.ingest import Pipeline
from socialdesk.replay.service import ALREADY_LOADED, NO_CREDENTIALS, replay_twcs
from socialdesk.replay.twcs import Skip, read_rows
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, Message, RawEvent, Ticket, TicketEvent


def _counts(db: Database) -> tuple[int, int, int, int]:
    with db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Ticket)) or 0,
            s.scalar(select(func.count()).select_from(Message)) or 0,
            s.scalar(select(func.count()).select_from(ChannelAccount)) or 0,
            s.scalar(select(func.count()).select_from(RawEvent)) or 0,
        )


def test_kaggle_sample_replays_into_threaded_tickets(db: Database, shared_data: Path) -> None:
    path = shared_data / "twcs" / "twcs_kaggle_sample.csv"
    report = replay_twcs(db, path, pipeline=Pipeline())
    assert report.rows_read == 93
    assert report.rows_loaded + report.rows_skipped == 93
    assert report.rows_loaded > 60
    tickets, messages, accounts, raw = _counts(db)
    assert messages == report.rows_loaded
    assert tickets == report.tickets_created
    assert raw == report.rows_loaded  # every loaded row was stored raw first
    assert accounts == 13  # one per brand handle in the sample
    with db.session() as s:
        # Brand replies are outbound messages on the same ticket as the customer's tweet.
        replied = s.scalars(select(Ticket).where(Ticket.first_response_at.is_not(None))).all()
        assert replied
        for ticket in replied:
            assert ticket.first_response_at >= ticket.first_message_at
        kinds = set(s.scalars(select(TicketEvent.kind).distinct()))
        assert {"created", "message_received", "replied"} <= kinds


def test_replaying_twice_changes_nothing(db: Database, shared_data: Path) -> None:
    path = shared_data / "twcs" / "twcs_head_5000.csv"
    first = replay_twcs(db, path, pipeline=Pipeline())
    before = _counts(db)
    second = replay_twcs(db, path, pipeline=Pipeline())
    assert _counts(db) == before
    assert second.rows_loaded == 0
    assert second.tickets_created == 0
    assert second.skipped[ALREADY_LOADED] == first.rows_loaded
    assert first.skipped.get(Skip.PARENT_MISSING, 0) >= 0
    # A thread in the head file: the customer's tweet, the brand's reply, a follow-up,
    # all on one ticket (tweet 1 is a reply to 2? the first thread is 119237 -> 119238...).
    with db.session() as s:
        multi = s.execute(
            select(Message.ticket_id, func.count())
            .group_by(Message.ticket_id)
            .having(func.count() >= 3)
        ).all()
        assert len(multi) > 100


def test_end_at_moves_every_post_by_one_offset(db: Database, shared_data: Path) -> None:
    path = shared_data / "twcs" / "twcs_kaggle_sample.csv"
    end = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    report = replay_twcs(db, path, pipeline=Pipeline(), end_at=end)
    with db.session() as s:
        times = {
            pid: at
            for pid, at in s.execute(select(Message.platform_message_id, Message.created_at))
        }
    rows, _ = read_rows(path)
    original = {r.tweet_id: r.created_at for r in rows}
    assert max(times.values()) == end
    assert report.shifted_by is not None and report.shifted_by.days > 3000
    offsets = {times[pid] - original[pid] for pid in times}
    assert offsets == {report.shifted_by}


def test_replay_notes_when_each_brand_last_heard_from_a_customer(
    db: Database, shared_data: Path
) -> None:
    path = shared_data / "twcs" / "twcs_kaggle_sample.csv"
    replay_twcs(db, path, pipeline=Pipeline())
    with db.session() as s:
        accounts = list(s.scalars(select(ChannelAccount)))
        for account in accounts:
            newest = s.scalar(
                select(func.max(Message.created_at)).where(
                    Message.channel_account_id == account.id, Message.direction == "inbound"
                )
            )
            assert account.last_received_at == newest
    assert any(a.last_received_at is not None for a in accounts)


def test_html_entities_in_the_export_are_decoded(db: Database, shared_data: Path) -> None:
    path = shared_data / "twcs" / "twcs_kaggle_sample.csv"
    escaped = {row.tweet_id for row in read_rows(path)[0] if "&amp;" in row.raw["text"]}
    assert escaped  # the sample has some: this test must be able to fail
    replay_twcs(db, path, pipeline=Pipeline())
    with db.session() as s:
        rows = s.execute(
            select(Message.platform_message_id, Message.body).where(
                Message.platform_message_id.in_(escaped)
            )
        )
        bodies = {pid: body for pid, body in rows}
        subjects = list(s.scalars(select(Ticket.subject)))
    assert set(bodies) == escaped
    assert all("&" in body and "&amp;" not in body for body in bodies.values())
    assert not [subject for subject in subjects if "&amp;" in subject or "&gt;" in subject]


def test_replayed_brands_are_not_shown_active_without_credentials(
    db: Database, shared_data: Path
) -> None:
    replay_twcs(db, shared_data / "twcs" / "twcs_kaggle_sample.csv", pipeline=Pipeline())
    with db.session() as s:
        states = set(s.execute(select(ChannelAccount.status, ChannelAccount.status_reason)).all())
    assert states == {("needs_reauth", NO_CREDENTIALS)}
