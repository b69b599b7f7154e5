"""GET /tickets/{id}/suggestions: articles and the team's past answers for the ticket's
latest customer message, ranked with scores, past answers adapted to this customer."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.actions.inbox import send_reply
from socialdesk.domain.enums import Role
from socialdesk.knowledge.suggestions import adapt
from socialdesk.store.models import Message, Ticket, User
from tests.api.conftest import PASSWORD, Api
from tests.pipeline.helpers import ingest, make_account, post


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        (
            "@sarah Sorry Sarah! DM us the order number. ^LL",
            {
                "old_handle": "sarah",
                "new_handle": "tom",
                "old_name": "Sarah",
                "new_name": "Tom",
                "old_initials": "LL",
                "new_initials": "SA",
            },
            "@tom Sorry Tom! DM us the order number. ^SA",
        ),
        ("@SARAH hi", {"old_handle": "sarah"}, "hi"),
        ("Sarahs parcel", {"old_name": "Sarah", "new_name": "Tom"}, "Sarahs parcel"),
        ("no names here", {}, "no names here"),
    ],
)
def test_adapt(text: str, kwargs: dict[str, str], expected: str) -> None:
    assert adapt(text, **kwargs) == expected


def _ticket_of(api: Api, pid: str) -> int:
    with api.db.session() as s:
        return int(s.scalar(select(Message.ticket_id).where(Message.platform_message_id == pid)))


def seed_history(api: Api) -> int:
    """Two past questions answered by a lead, one unanswered; returns a new ticket."""
    account = make_account(api.db)
    with api.db.write() as s:
        create_user(
            s,
            "lead@example.com",
            PASSWORD,
            Role.LEAD,
            name="Lee Lead",
            workspace=ensure_workspace(s),
        )
    ingest(
        api.db,
        post(account, "p1", "@AcmeSupport my parcel never arrived, order 5531", author="sarah"),
        post(account, "p2", "@AcmeSupport how do I change my password?", author="mike", minutes=1),
        post(account, "p3", "@AcmeSupport parcel parcel parcel", author="ann", minutes=2),
    )
    with api.db.write() as s:
        lead = s.scalars(select(User).where(User.email == "lead@example.com")).one()
        for pid, body in (
            ("p1", "@sarah So sorry the parcel is late! DM us and we send a new one. ^LL"),
            ("p2", "@mike Settings → Security → Change password. ^LL"),
        ):
            send_reply(s, s.get_one(Ticket, _ticket_of(api, pid)), lead, body)
    ingest(
        api.db,
        post(account, "p9", "@AcmeSupport my parcel has not arrived yet", author="tom", minutes=9),
    )
    return _ticket_of(api, "p9")


def test_suggestions_rank_articles_and_past_answers(
    api: Api, admin: httpx.Client, agent: httpx.Client
) -> None:
    ticket_id = seed_history(api)
    for body in (
        {
            "title": "Where is my parcel?",
            "body": "Parcels arrive in 3 days; track them under Orders.",
            "status": "published",
            "summaries": {"x": "Parcels take 3 days; track yours under Orders:"},
        },
        {"title": "Change your password", "body": "Settings, Security.", "status": "published"},
        {"title": "Parcel draft", "body": "parcel arrived", "status": "draft"},
        {
            "title": "Lost parcel process",
            "body": "Resend after 7 days.",
            "status": "published",
            "visibility": "internal",
        },
    ):
        assert admin.post("/kb/articles", json=body).status_code == 201

    r = agent.get(f"/tickets/{ticket_id}/suggestions")
    assert r.status_code == 200, r.text
    found = r.json()
    assert found["query"] == "@AcmeSupport my parcel has not arrived yet"
    titles = [a["title"] for a in found["articles"]]
    assert set(titles) == {"Where is my parcel?", "Lost parcel process"}  # no draft, no password
    scores = [a["score"] for a in found["articles"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    public = next(a for a in found["articles"] if a["title"] == "Where is my parcel?")
    assert public["link"].endswith("?c=x") and "/h/" in public["link"]
    assert public["text"].startswith("Parcels take 3 days") and public["fits"] is True
    internal = next(a for a in found["articles"] if a["title"] == "Lost parcel process")
    assert internal["link"] is None

    answers = found["answers"]
    assert (
        answers[0]["answer"] == "@tom So sorry the parcel is late! DM us and we send a new one. ^A"
    )
    assert answers[0]["question"].endswith("order 5531") and answers[0]["fits"] is True
    assert all("password" not in a["answer"] for a in answers)  # shares no word with the ask

    with api.client(api.token("viewer@example.com")) as viewer:
        seen = viewer.get(f"/tickets/{ticket_id}/suggestions").json()
        assert [a["title"] for a in seen["articles"]] == ["Where is my parcel?"]
    assert agent.get("/tickets/999999/suggestions").status_code == 404
