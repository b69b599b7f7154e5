"""GET /kb/faq through HTTP and the database: real customer questions ingested, the
team's replies sent through the reply action, an article published; the clusters come
back with volumes, examples, coverage and a draft from the team's replies."""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions.inbox import send_reply
from socialdesk.store.models import Message, Ticket, User
from tests.api.conftest import Api
from tests.pipeline.helpers import T0, ingest, make_account, post

SLICE = Path(__file__).parents[1] / "fixtures" / "faq" / "banking77_slice.csv"
PIN_ANSWER = "@{handle} You can change your PIN at any cash machine, under PIN services."


def _seed(api: Api) -> int:
    """The slice's questions, one customer each; the PIN questions answered. Returns the
    account."""
    account = make_account(api.db)
    with SLICE.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    ingest(
        api.db,
        *[
            post(account, f"q{i}", f"@AcmeSupport {row['text']}", author=f"c{i}", minutes=i)
            for i, row in enumerate(rows)
        ],
    )
    with api.db.write() as s:
        admin = s.scalars(select(User).where(User.email == "admin@example.com")).one()
        for i, row in enumerate(rows):
            if row["category"] == "change_pin":
                ticket_id = s.scalar(
                    select(Message.ticket_id).where(Message.platform_message_id == f"q{i}")
                )
                send_reply(
                    s, s.get_one(Ticket, ticket_id), admin, PIN_ANSWER.format(handle=f"c{i}")
                )
    return account


def test_faq_clusters_with_coverage_and_drafts(
    api: Api, admin: httpx.Client, agent: httpx.Client
) -> None:
    account = _seed(api)
    article = admin.post(
        "/kb/articles",
        json={
            "title": "Lost or stolen card",
            "body": "Freeze a lost or stolen card in the app at once.",
            "status": "published",
        },
    )
    assert article.status_code == 201

    r = admin.get("/kb/faq", params={"account_id": account})
    assert r.status_code == 200, r.text
    found = r.json()
    assert found["questions"] == 40 and found["capped"] is False
    assert found["max_questions"] == 10_000
    clusters = found["clusters"]
    assert len(clusters) >= 4
    volumes = [c["volume"] for c in clusters]
    assert volumes == sorted(volumes, reverse=True)
    pin = next(c for c in clusters if "pin" in c["label"].lower())
    assert pin["volume"] >= 5 and len(pin["examples"]) == 3
    assert len(pin["ticket_ids"]) == pin["volume"] == len(pin["message_ids"])
    # the draft: the team's replies (adapted per customer, so each is distinct), best first
    assert pin["draft"]["title"].lower().startswith(pin["label"].lower()[:3])
    assert "change your PIN at any cash machine" in pin["draft"]["body"]
    lost = next(c for c in clusters if c["covered_by"] is not None)
    assert lost["covered_by"]["kind"] == "article"
    assert lost["covered_by"]["id"] == article.json()["id"]
    assert lost["covered_by"]["title"] == "Lost or stolen card"
    assert all(c["covered_by"] is None for c in clusters if c is not lost)

    # periods: the questions were posted from T0 on, one a minute
    until = (T0.replace(tzinfo=None)).isoformat()
    assert admin.get("/kb/faq", params={"until": until}).json()["questions"] == 0
    later = admin.get("/kb/faq", params={"since": T0.date().isoformat(), "limit": 1}).json()
    assert later["questions"] == 40 and len(later["clusters"]) == 1


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [
        ({"since": "yesterday"}, 422, "since must be a date"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, 422, "since must be before until"),
        ({"until": "0001-01-01"}, 422, "between the years"),
        ({"limit": 0}, 422, "limit"),
        ({"limit": 101}, 422, "limit"),
        ({"account_id": 987654}, 404, "channel account 987654 not found"),
        ({"account_id": "x"}, 422, "account_id"),
    ],
)
def test_bad_parameters_are_refused_with_a_reason(
    api: Api, admin: httpx.Client, params: dict[str, object], status: int, reason: str
) -> None:
    r = admin.get("/kb/faq", params=params)
    assert r.status_code == status, r.text
    assert reason in r.text


def test_only_admins_and_leads_read_the_faq(agent: httpx.Client, api: Api) -> None:
    assert agent.get("/kb/faq").status_code == 403
    with api.client(api.token("viewer@example.com")) as viewer:
        assert viewer.get("/kb/faq").status_code == 403
    with api.client() as anonymous:
        assert anonymous.get("/kb/faq").status_code == 401
