"""One ticket query: the inbox page and ``GET /api/v1/tickets`` list the same tickets
for the same view and filters, because both apply ``store.repos.tickets``' one filter
definition. Real HTTP, real database."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from socialdesk.actions.tickets import assign, set_status, set_tags
from socialdesk.domain.enums import Platform, TicketStatus
from socialdesk.store.models import Message, Ticket, User
from tests.api.doors import Desk
from tests.pipeline.helpers import ingest, make_account, post


def _seed(desk: Desk) -> None:
    """Tickets spread over statuses, assignees, tags, networks and words."""
    x = desk.account_id
    fb = make_account(desk.db, Platform.FACEBOOK, "AcmeFB")
    ingest(
        desk.db,
        post(x, "q1", "Where is my refund for order 77?", author="ann", minutes=1),
        post(x, "q2", "Love the new app", author="bob", minutes=2),
        post(fb, "q3", "My refund never came", author="cat", minutes=3, platform=Platform.FACEBOOK),
        post(
            fb,
            "q4",
            "Flight cancelled, what now?",
            author="dan",
            minutes=4,
            platform=Platform.FACEBOOK,
        ),
        post(x, "q5", "Thanks for nothing", author="eve", minutes=5),
    )
    with desk.db.write() as s:
        agent = s.scalar(select(User).where(User.email == "agent@example.com"))
        assert agent is not None

        def ticket(pid: str) -> Ticket:
            found = s.scalar(select(Ticket).join(Message).where(Message.platform_message_id == pid))
            assert found is not None
            return found

        assign(s, ticket("q1"), agent, agent.id)
        assign(s, ticket("q3"), agent, agent.id)
        set_status(s, ticket("q2"), agent, TicketStatus.PENDING)
        set_status(s, ticket("q4"), agent, TicketStatus.SOLVED)
        set_tags(s, ticket("q3"), agent, ["refund"])
        set_tags(s, ticket("q5"), agent, ["refund"])


def _page_ids(desk: Desk, query: str) -> set[int]:
    r = desk.page("agent").get(f"/inbox?{query}")
    assert r.status_code == 200, r.text
    return {int(i) for i in re.findall(r'data-ticket-id="(\d+)"', r.text)}


def _api_ids(desk: Desk, query: str) -> set[int]:
    with desk.api("agent") as api:
        r = api.get(f"/tickets?{query}&limit=100")
    assert r.status_code == 200, r.text
    return {t["id"] for t in r.json()["data"]}


@pytest.mark.parametrize(
    "query",
    [
        "view=open",
        "view=needs_reply",
        "view=needs_reply&channel=facebook",
        "view=promises_due",
        "view=mine",
        "view=unassigned",
        "view=pending",
        "view=solved",
        "view=at_risk",
        "view=open&channel=facebook",
        "view=open&channel=x",
        "view=open&tag=refund",
        "view=open&tag=REFUND",
        "view=mine&tag=refund",
        "view=open&q=refund",
        "view=solved&channel=facebook",
    ],
)
def test_the_page_and_the_api_list_the_same_tickets(desk: Desk, query: str) -> None:
    _seed(desk)
    page, api = _page_ids(desk, query), _api_ids(desk, query)
    assert page == api
    if query.startswith(("view=open", "view=mine", "view=solved")) and "at_risk" not in query:
        assert page, "a filter that lists nothing proves little"


def test_an_unknown_view_is_a_clear_error(desk: Desk) -> None:
    with desk.api("agent") as api:
        r = api.get("/tickets?view=everything")
    assert r.status_code == 422 and "view" in r.text


def test_explicit_status_wins_over_the_view(desk: Desk) -> None:
    _seed(desk)
    with desk.api("agent") as api:
        solved_mine = api.get("/tickets?view=mine&status=solved").json()["data"]
        mine = api.get("/tickets?view=mine").json()["data"]
    assert solved_mine == [] and {t["status"] for t in mine} <= {"new", "open", "pending"}
