"""The encoder pass refines the inline triage in the background, over the real database."""

from __future__ import annotations

import threading

from sqlalchemy import select

from socialdesk.actions.admin import create_user
from socialdesk.actions.triage_labels import set_triage_labels
from socialdesk.automation.triage_refine import TriageRefineWorker, pending_count
from socialdesk.config import Settings
from socialdesk.domain.enums import Role
from socialdesk.observability.gauges import DatabaseCollector
from socialdesk.store.db import Database
from socialdesk.store.models import Message, Ticket, TicketEvent
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import ingest, make_account, post

ANGRY = "@AcmeSupport I lost all my photos after the update, worst service ever, I am furious"


def _inline_said_positive(db: Database) -> None:
    """Make the inline pass's verdict wrong, as it sometimes is, so the encoder corrects it."""
    with db.write() as s:
        message = s.scalars(select(Message)).one()
        message.triage = {**(message.triage or {}), "sentiment": "positive"}
        ticket = s.scalars(select(Ticket)).one()
        if "sentiment_label" not in (ticket.triage_manual or {}):
            ticket.sentiment_label = "positive"


def _backlog_gauge(db: Database) -> float:
    for family in DatabaseCollector(db).collect():
        if family.name == "socialdesk_triage_encoder_backlog":
            return float(family.samples[0].value)
    raise AssertionError("no backlog gauge")


def _events(db: Database, kind: str) -> list[TicketEvent]:
    with db.session() as s:
        return list(s.scalars(select(TicketEvent).where(TicketEvent.kind == kind)))


def test_the_encoder_refines_the_label_and_records_it(db: Database) -> None:
    x = make_account(db)
    ingest(db, post(x, "t1", ANGRY), pipeline=build_pipeline(Settings()))
    _inline_said_positive(db)
    assert pending_count(db) == 1 and _backlog_gauge(db) == 1

    assert TriageRefineWorker(db).run_once() == 1

    assert pending_count(db) == 0 and _backlog_gauge(db) == 0
    with db.session() as s:
        message = s.scalars(select(Message)).one()
        ticket = s.scalars(select(Ticket)).one()
        assert message.triage is not None and message.triage["refined"] is True
        assert message.triage["sentiment"] == "negative"
        assert message.embedding is not None and len(message.embedding) == 384 * 2
        assert ticket.sentiment_label == "negative"
        assert ticket.sentiment is not None and ticket.sentiment < 0
    (event,) = _events(db, "triage_refined")
    assert event.actor == "system"
    assert event.data["from"]["sentiment"] == "positive"
    assert event.data["to"]["sentiment"] == "negative"
    # Nothing left: a second pass does nothing and records nothing.
    assert TriageRefineWorker(db).run_once() == 0
    assert len(_events(db, "triage_refined")) == 1


def test_an_agents_manual_label_is_kept(db: Database) -> None:
    x = make_account(db)
    ingest(db, post(x, "t1", ANGRY), pipeline=build_pipeline(Settings()))
    with db.write() as s:
        agent = create_user(
            s, "ann@acme.test", "a long agent passphrase 42", Role.AGENT, seed_data=True
        )
        set_triage_labels(s, s.scalars(select(Ticket)).one(), agent, sentiment="positive")
    _inline_said_positive(db)

    assert TriageRefineWorker(db).run_once() == 1

    with db.session() as s:
        message = s.scalars(select(Message)).one()
        ticket = s.scalars(select(Ticket)).one()
        assert message.triage is not None and message.triage["sentiment"] == "negative"
        assert ticket.sentiment_label == "positive" and ticket.sentiment == 1.0
    # A topic may still be refined; the agent's sentiment never is.
    assert all("sentiment" not in e.data["to"] for e in _events(db, "triage_refined"))


def test_two_workers_never_process_one_message_twice(db: Database) -> None:
    x = make_account(db)
    pipeline = build_pipeline(Settings())
    for n in range(6):
        ingest(
            db,
            post(x, f"t{n}", f"@AcmeSupport order {n} never arrived", author=f"c{n}"),
            pipeline=pipeline,
        )
    first, second = TriageRefineWorker(db, batch=4), TriageRefineWorker(db, batch=4)
    claimed_first = {c.id for c in first.claim(4)}
    claimed_second = {c.id for c in second.claim(4)}
    assert len(claimed_first) == 4 and len(claimed_second) == 2
    assert claimed_first.isdisjoint(claimed_second)

    # Claims expire (a crashed worker); then two workers race over the same backlog.
    with db.write() as s:
        for message in s.scalars(select(Message)):
            message.triage_claimed_until = None
    done: list[int] = []
    threads = [threading.Thread(target=lambda w=w: done.append(w.drain())) for w in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(done) == 6 and pending_count(db) == 0
