"""The ticket page's peer answer: "answered by @fan" in words, "Thank @fan" posts a public
reply under the fan's message through the reply door, "Solve" solves; viewers see no
buttons."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.config import Settings
from socialdesk.domain.enums import Direction
from socialdesk.store.db import Database
from socialdesk.store.models import Message, PeerAnswer, Ticket
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_pages import app_db, client, sign_in

__all__ = ["app_db", "client"]


def _seed(db: Database) -> tuple[int, int]:
    x = make_account(db)
    ingest(
        db,
        post(x, "q1", "@AcmeSupport how do I reset my password? the link expired", author="sam"),
        post(
            x,
            "f1",
            "@sam go to Settings and tap 'forgot password', the new link works for me",
            author="fan_rita",
            reply_to="q1",
            minutes=3,
        ),
        post(x, "f2", "@sam same here, any news?", author="other_one", reply_to="q1", minutes=4),
        pipeline=build_pipeline(Settings()),
    )
    with db.session() as s:
        ticket_id = s.scalar(select(Message.ticket_id).where(Message.platform_message_id == "q1"))
        answer_id = s.scalar(select(PeerAnswer.id))
    assert ticket_id is not None and answer_id is not None
    return ticket_id, answer_id


def test_ticket_page_shows_the_fan_and_thanks_them(client: TestClient, app_db: Database) -> None:
    ticket_id, answer_id = _seed(app_db)
    csrf = sign_in(client, "agent@example.com")
    page = client.get(f"/tickets/{ticket_id}")
    assert page.status_code == 200
    assert "Answered by" in page.text and "@fan_rita" in page.text
    assert "Thank @fan_rita" in page.text and "@other_one</a>" not in page.text
    assert page.text.count("Answers the customer") == 1

    thanked = client.post(
        f"/tickets/{ticket_id}/peer-answers/{answer_id}/thank", data={"csrf_token": csrf}
    )
    assert thanked.status_code == 303, thanked.text
    with app_db.session() as s:
        (sent,) = s.scalars(
            select(Message).where(
                Message.ticket_id == ticket_id, Message.direction == str(Direction.OUTBOUND)
            )
        ).all()
        fan_message = s.scalar(select(Message.id).where(Message.platform_message_id == "f1"))
        assert sent.body.startswith("@fan_rita thank you") and sent.visibility == "public"
        assert sent.meta["reply_to_message_id"] == fan_message

    missing = client.post(
        f"/tickets/{ticket_id}/peer-answers/{answer_id + 99}/thank", data={"csrf_token": csrf}
    )
    assert missing.status_code == 404
    no_csrf = client.post(f"/tickets/{ticket_id}/peer-answers/{answer_id}/thank")
    assert no_csrf.status_code in (400, 403)

    solved = client.post(
        f"/tickets/{ticket_id}/update", data={"csrf_token": csrf, "status": "solved"}
    )
    assert solved.status_code == 303
    with app_db.session() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "solved"


def test_viewers_see_the_fan_but_no_buttons(client: TestClient, app_db: Database) -> None:
    ticket_id, _ = _seed(app_db)
    sign_in(client, "viewer@example.com")
    page = client.get(f"/tickets/{ticket_id}")
    assert "Answered by" in page.text and "Thank @fan_rita" not in page.text
