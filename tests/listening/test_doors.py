"""Listening through both doors, over real HTTP: saved searches are created, changed
and deleted the same way through the API and Settings → Listening (bad input is a 4xx
with the reason, agents and viewers are refused), and a found mention becomes a ticket
(idempotently), a reply, or is dismissed through the API and the Mentions page alike."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from socialdesk.listening.poller import run_search
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.store.models import AuditEntry, ListeningMention, ListeningSearch, Message, Ticket
from tests.api.doors import Desk, desk_fixture  # noqa: F401  (the "desk" fixture)
from tests.listening.helpers import Networks, networks


@pytest.fixture
def world(desk: Desk) -> Iterator[Networks]:
    with networks(desk.db) as nets:
        yield nets


def spec(world: Networks, **changes: object) -> dict[str, object]:
    return {
        "name": "Acme",
        "brands": ["Acme Air"],
        "hashtags": ["acmefail"],
        "exclusions": ["jobs"],
        "account_ids": [world.accounts["x"], world.accounts["bluesky"]],
        **changes,
    }


def searches(desk: Desk) -> list[tuple[str, list[str], list[str]]]:
    with desk.db.session() as s:
        return [
            (x.name, x.brands, x.exclusions)
            for x in s.scalars(select(ListeningSearch).order_by(ListeningSearch.name))
        ]


def test_saved_searches_through_the_api(desk: Desk, world: Networks) -> None:
    with desk.api("marketing") as api:
        r = api.post("/listening/searches", json=spec(world))
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["brands"] == ["Acme Air"] and made["hashtags"] == ["acmefail"]
        r = api.patch(f"/listening/searches/{made['id']}", json={"exclusions": ["jobs", "hiring"]})
        assert r.status_code == 200 and r.json()["exclusions"] == ["jobs", "hiring"]
        assert [s["name"] for s in api.get("/listening/searches").json()] == ["Acme"]
        # Bad input: 4xx with the reason.
        for body, status, reason in (
            (spec(world, name="Acme"), 409, "exists already"),
            (spec(world, name="B", brands=[], hashtags=[]), 422, "at least one keyword"),
            (spec(world, name="B", account_ids=[]), 422, "choose at least one"),
            (spec(world, name="B", account_ids=[987654]), 422, "not in this workspace"),
            (spec(world, name="B", hashtags=["two words"]), 422, "not a hashtag"),
            (spec(world, name="B", colour="red"), 422, "colour"),
        ):
            r = api.post("/listening/searches", json=body)
            assert r.status_code == status and reason in r.text, (body, r.text)
    with desk.api("agent") as api:
        r = api.post("/listening/searches", json=spec(world, name="Mine"))
        assert r.status_code == 403 and "leads, admins and marketing" in r.text
        assert api.get("/listening/searches").status_code == 200  # reading is fine
    with desk.api("lead") as api:
        assert api.delete(f"/listening/searches/{made['id']}").status_code == 204
        assert api.get(f"/listening/searches/{made['id']}").status_code == 404
    assert searches(desk) == []
    with desk.db.session() as s:
        actions = list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.startswith("listening."))
                .order_by(AuditEntry.id)
            )
        )
    assert actions == [
        "listening.search_created",
        "listening.search_updated",
        "listening.search_deleted",
    ]


def test_saved_searches_through_the_settings_page(desk: Desk, world: Networks) -> None:
    lead = desk.page("lead")
    form = {
        "name": "Acme",
        "brands": "Acme Air",
        "hashtags": "#acmefail",
        "exclusions": "jobs, hiring",
        "account_ids": [str(world.accounts["x"]), str(world.accounts["bluesky"])],
    }
    r = lead.post("/settings/listening", form)
    assert r.status_code == 303, r.text
    assert searches(desk) == [("Acme", ["Acme Air"], ["jobs", "hiring"])]
    listing = lead.get("/settings/listening").text
    assert "Acme Air" in listing and "#acmefail" in listing
    refused = lead.post("/settings/listening", {**form, "name": "B", "brands": "", "hashtags": ""})
    assert refused.status_code == 422 and "at least one keyword" in refused.text
    with desk.db.session() as s:
        search_id = s.scalars(select(ListeningSearch.id)).one()
    assert f'value="{search_id}"' in listing  # the row's edit form
    edited = lead.post(
        "/settings/listening", {**form, "search_id": str(search_id), "exclusions": "jobs"}
    )
    assert edited.status_code == 303
    assert searches(desk) == [("Acme", ["Acme Air"], ["jobs"])]
    assert lead.post(f"/settings/listening/{search_id}/delete").status_code == 303
    assert searches(desk) == []
    agent = desk.page("agent")
    assert agent.get("/settings/listening").status_code == 403


def found_mentions(desk: Desk, world: Networks) -> list[int]:
    world.post("bluesky", "Acme Air lost my bag, no answer for days")
    world.post("x", "Acme Air flight delayed again")
    world.post("x", "Acme Air crew were great")
    with desk.api("lead") as api:
        search_id = api.post("/listening/searches", json=spec(world)).json()["id"]

    async def go() -> None:
        registry = world.registry()
        try:
            await run_search(desk.db, Pipeline(), registry, search_id)
        finally:
            await registry.aclose()

    asyncio.run(go())
    with desk.api("agent") as api:
        listed = api.get("/mentions").json()["mentions"]
    return [m["id"] for m in sorted(listed, key=lambda m: m["body"])]


def ticket_of(desk: Desk, mention_id: int) -> tuple[int | None, str]:
    with desk.db.session() as s:
        mention = s.get_one(ListeningMention, mention_id)
        return mention.ticket_id, mention.status


def test_mentions_filters(desk: Desk, world: Networks) -> None:
    found_mentions(desk, world)
    with desk.api("viewer") as api:
        assert len(api.get("/mentions").json()["mentions"]) == 3
        bluesky = api.get("/mentions", params={"network": "bluesky"}).json()["mentions"]
        assert [m["body"] for m in bluesky] == ["Acme Air lost my bag, no answer for days"]
        negative = api.get("/mentions", params={"sentiment": "negative"}).json()["mentions"]
        assert "Acme Air lost my bag, no answer for days" in [m["body"] for m in negative]
        assert all(m["sentiment"] == "negative" for m in negative)
        assert [
            m["body"] for m in api.get("/mentions", params={"q": "crew"}).json()["mentions"]
        ] == ["Acme Air crew were great"]
        assert api.get("/mentions", params={"sentiment": "furious"}).status_code == 422
        assert api.get("/mentions", params={"network": "myspace"}).status_code == 422
        bad = api.get("/mentions", params={"q": "a\x00b"})
        assert bad.status_code == 422 and "control characters" in bad.text
        # Viewers read only.
        first = api.get("/mentions").json()["mentions"][0]["id"]
        assert api.post(f"/mentions/{first}/ticket").status_code == 403


def test_make_ticket_is_the_same_through_both_doors_and_idempotent(
    desk: Desk, world: Networks
) -> None:
    crew, delayed, lost = found_mentions(desk, world)
    with desk.api("agent") as api:
        r = api.post(f"/mentions/{lost}/ticket")
        assert r.status_code == 200, r.text
        ticket_id = r.json()["ticket_id"]
        again = api.post(f"/mentions/{lost}/ticket")
        assert again.json()["ticket_id"] == ticket_id  # idempotent
        assert api.get("/mentions").json()["mentions"].__len__() == 2
    page = desk.page("agent")
    r = page.post(f"/mentions/{delayed}/ticket")
    assert r.status_code == 303
    page_ticket, status = ticket_of(desk, delayed)
    assert r.headers["location"] == f"/tickets/{page_ticket}" and status == "ticketed"
    assert page.post(f"/mentions/{delayed}/ticket").headers["location"] == f"/tickets/{page_ticket}"
    with desk.db.session() as s:
        for made, platform in ((ticket_id, "bluesky"), (page_ticket, "x")):
            ticket = s.get_one(Ticket, made)
            assert ticket.platform == platform and ticket.message_count == 1
        bodies = {
            m.ticket_id: m.body
            for m in s.scalars(
                select(Message).where(Message.ticket_id.in_([ticket_id, page_ticket]))
            )
        }
    assert bodies == {
        ticket_id: "Acme Air lost my bag, no answer for days",
        page_ticket: "Acme Air flight delayed again",
    }
    # Dismiss: through the page; a ticketed mention cannot be dismissed (409 with why).
    assert page.post(f"/mentions/{crew}/dismiss").status_code == 303
    assert ticket_of(desk, crew) == (None, "dismissed")
    with desk.api("agent") as api:
        refused = api.post(f"/mentions/{lost}/dismiss")
        assert refused.status_code == 409 and "ticket already" in refused.text
        assert api.post("/mentions/999999/ticket").status_code == 404


def test_reply_makes_a_ticket_and_a_reply(desk: Desk, world: Networks) -> None:
    _, delayed, lost = found_mentions(desk, world)
    with desk.api("admin") as api:
        r = api.post(f"/mentions/{delayed}/reply", json={"body": "Sorry! DM us your booking."})
        assert r.status_code == 200, r.text
        ticket_id = r.json()["ticket_id"]
        assert r.json()["message_id"] is not None
        assert api.post(f"/mentions/{lost}/reply", json={"body": ""}).status_code == 422
    page = desk.page("admin")
    r = page.post(f"/mentions/{lost}/reply", {"body": "So sorry, we are on it."})
    assert r.status_code == 303
    page_ticket, _ = ticket_of(desk, lost)
    with desk.db.session() as s:
        for made, text in (
            (ticket_id, "Sorry! DM us your booking."),
            (page_ticket, "So sorry, we are on it."),
        ):
            outbound = s.scalars(
                select(Message.body).where(
                    Message.ticket_id == made, Message.direction == "outbound"
                )
            ).all()
            assert outbound == [text]
