"""The inbox row shows a ticket's triage in words (not colour alone), from the same
labels the API returns (tests/api/test_triage_fields.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.config import Settings
from socialdesk.store.db import Database
from socialdesk.store.models import Ticket
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_pages import app_db, client, sign_in
from tests.web.test_sla_pages import row_of

__all__ = ["app_db", "client"]


def test_inbox_rows_show_sentiment_intent_urgency_and_topic(
    client: TestClient, app_db: Database
) -> None:
    x = make_account(app_db)
    pipeline = build_pipeline(Settings())
    ingest(
        app_db,
        post(x, "a1", "@AcmeSupport my parcel never arrived, this is awful!!", author="1"),
        pipeline=pipeline,
    )
    ingest(
        app_db,
        post(
            x,
            "c1",
            "@AcmeSupport my card was charged twice and nobody answers, this is a scam!!",
            author="3",
        ),
        pipeline=pipeline,
    )
    ingest(
        app_db,
        post(x, "b1", "@AcmeSupport do you have the blue jacket in size M?", author="2"),
        pipeline=pipeline,
    )
    with app_db.session() as s:
        tickets = {t.subject: t for t in s.scalars(select(Ticket))}
    angry = next(t for subject, t in tickets.items() if "parcel" in subject)
    asking = next(t for subject, t in tickets.items() if "jacket" in subject)
    billing = next(t for subject, t in tickets.items() if "charged" in subject)
    sign_in(client, "agent@example.com")
    page = client.get("/inbox?view=open").text
    angry_row, asking_row = row_of(page, angry.id), row_of(page, asking.id)
    assert '<span class="badge neg">negative</span>' in angry_row
    assert f">{angry.intent}</span>" in angry_row and angry.intent == "complaint"
    assert ">Delivery</span>" in angry_row
    # Urgency shows from 50 up: the double charge is, the late parcel is not.
    assert billing.urgency is not None and billing.urgency >= 50
    billing_row = row_of(page, billing.id)
    assert f"urgency {billing.urgency}" in billing_row and ">Billing</span>" in billing_row
    assert angry.urgency is not None and angry.urgency < 50 and "urgency" not in angry_row
    assert ">question</span>" in asking_row
    assert "negative" not in asking_row and "urgency" not in asking_row
