"""Saved searches run against the X, Mastodon and Bluesky emulators over real HTTP:
what they find lands in Mentions (not tickets), a second pass brings only new posts,
exclusions hold, a 429 is waited out until the network's reset, and a rule can make a
ticket of a found mention."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socialdesk.actions.admin import create_user
from socialdesk.automation.admin import save_rule
from socialdesk.domain.enums import Role
from socialdesk.listening.poller import ListeningPoller, run_search
from socialdesk.listening.searches import create_search
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.store.db import Database
from socialdesk.store.models import ListeningMention, ListeningSearch, Ticket, User, Workspace
from tests.listening.helpers import Networks, networks

SEARCH = "GET /2/tweets/search/recent"
X_QUERY = '("Acme Air" OR acmee OR #acmefail) -jobs -is:retweet'


@pytest.fixture
def world(db: Database) -> Iterator[Networks]:
    with networks(db) as nets:
        yield nets


def saved_search(db: Database, world: Networks, **spec: object) -> int:
    with db.write() as s:
        lead = _lead(s, world.workspace_id)
        search = create_search(
            s,
            lead,
            world.workspace_id,
            {
                "name": "Acme",
                "brands": ["Acme Air"],
                "misspellings": ["acmee"],
                "hashtags": ["acmefail"],
                "exclusions": ["jobs"],
                "account_ids": list(world.accounts.values()),
                **spec,
            },
        )
        return search.id


def _lead(s: Session, workspace_id: int) -> User:
    return create_user(
        s, f"lead{workspace_id}@acme.test", "correct horse battery staple", Role.LEAD,
        name="Lea Lead", workspace=s.get_one(Workspace, workspace_id),
    )  # fmt: skip


def mentions(db: Database) -> list[tuple[str, str]]:
    with db.session() as s:
        return sorted((m.platform, m.body) for m in s.scalars(select(ListeningMention)).all())


def run(db: Database, world: Networks, search_id: int) -> object:
    async def go() -> object:
        registry = world.registry()
        try:
            return await run_search(db, Pipeline(), registry, search_id)
        finally:
            await registry.aclose()

    return asyncio.run(go())


def test_saved_searches_bring_posts_into_mentions_from_each_network(
    db: Database, world: Networks
) -> None:
    for network in ("x", "mastodon", "bluesky"):
        world.post(network, f"Acme Air lost my bag again ({network})")
        world.post(network, f"acmee is hiring, see jobs page ({network})")  # excluded
        world.post(network, f"nothing to see here ({network})")
    world.post("mastodon", "so tired of this #AcmeFail", author="bob")
    world.post("bluesky", "another day another #acmefail", author="bob")
    search_id = saved_search(db, world)

    first = run(db, world, search_id)
    assert first.errors == [] and first.rate_limited == []
    assert mentions(db) == [
        ("bluesky", "Acme Air lost my bag again (bluesky)"),
        ("bluesky", "another day another #acmefail"),
        ("mastodon", "Acme Air lost my bag again (mastodon)"),
        ("mastodon", "so tired of this #AcmeFail"),
        ("x", "Acme Air lost my bag again (x)"),
    ]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0  # not tickets
        found = s.scalars(select(ListeningMention).where(ListeningMention.platform == "x")).one()
        assert found.raw["payload"]["tweet"]["text"] == "Acme Air lost my bag again (x)"
        assert found.author_handle == "ana" and found.status == "new"
        assert found.sentiment == "negative"
        cursors = s.get_one(ListeningSearch, search_id).cursors
    assert {key.split(":", 1)[1] for key in cursors} >= {
        "search:" + X_QUERY,
        "tag:acmefail",
        'search:"Acme Air"',
    }

    # Second pass: only what is new, asked for with the cursors.
    new_tweet = world.post("x", "acmee cancelled my flight", author="cy")
    world.post("mastodon", "Acme Air, where is my refund?", author="cy")
    world.post("bluesky", "acmee customer service rocks", author="cy")
    second = run(db, world, search_id)
    assert second.stored == 3
    assert len(mentions(db)) == 8
    with db.session() as s:
        cursors = s.get_one(ListeningSearch, search_id).cursors
    x_key = f"{world.accounts['x']}:search:" + X_QUERY
    assert cursors[x_key] == new_tweet  # the next X call asks since_id=<this>
    mastodon_calls = world.mastodon.get("/_emulator/requests").json()
    tag_calls = [r for r in mastodon_calls if r["path"] == "/api/v1/timelines/tag/acmefail"]
    assert "min_id=" in tag_calls[-1]["query"]

    third = run(db, world, search_id)
    assert third.stored == 0 and len(mentions(db)) == 8


def test_a_429_is_waited_out_until_the_networks_reset(db: Database, world: Networks) -> None:
    world.post("x", "Acme Air again")
    assert (
        world.x.put(
            "/_emulator/config", json={"rate_limits": {"GET /2/tweets/search/recent": 0}}
        ).status_code
        == 200
    )
    search_id = saved_search(db, world, account_ids=[world.accounts["x"]])
    calls = world.x.get("/_emulator/requests").json().get(SEARCH, 0)

    limited = run(db, world, search_id)
    assert limited.rate_limited == [world.accounts["x"]] and limited.stored == 0
    with db.session() as s:
        until = datetime.fromisoformat(
            s.get_one(ListeningSearch, search_id).rate_limited_until[str(world.accounts["x"])]
        )
    assert datetime.now(UTC) < until <= datetime.now(UTC) + timedelta(minutes=16)

    # Before the reset the network is not asked again.
    assert run(db, world, search_id).rate_limited == [world.accounts["x"]]
    assert world.x.get("/_emulator/requests").json()[SEARCH] == calls + 1

    # After it (the window reopened), the search runs and finds the post.
    world.x.put("/_emulator/config", json={"rate_limits": {"GET /2/tweets/search/recent": 300}})
    with db.write() as s:
        s.get_one(ListeningSearch, search_id).rate_limited_until = {
            str(world.accounts["x"]): (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        }
    done = run(db, world, search_id)
    assert (done.rate_limited, done.stored) == ([], 1)


def test_a_rule_makes_a_ticket_of_a_negative_mention(db: Database, world: Networks) -> None:
    world.post("bluesky", "Acme Air lost my luggage and nobody answers, terrible")
    world.post("bluesky", "Acme Air crew were lovely, thank you!")
    with db.write() as s:
        save_rule(
            s, None, world.workspace_id, name="Angry mentions become tickets",
            event="mention_found",
            conditions=[{"field": "sentiment", "op": "is", "value": "negative"}],
            actions=[{"type": "create_ticket"}],
        )  # fmt: skip
    search_id = saved_search(db, world, account_ids=[world.accounts["bluesky"]])
    outcome = run(db, world, search_id)
    assert (outcome.stored, outcome.ticketed) == (2, 1)
    with db.session() as s:
        [ticket] = s.scalars(select(Ticket)).all()
        ticketed = s.scalars(
            select(ListeningMention).where(ListeningMention.status == "ticketed")
        ).one()
        assert ticketed.ticket_id == ticket.id and "lost my luggage" in ticketed.body
        assert ticket.platform == "bluesky"


def test_the_poller_runs_due_searches_once_per_interval(db: Database, world: Networks) -> None:
    world.post("mastodon", "Acme Air delayed")
    saved_search(db, world, account_ids=[world.accounts["mastodon"]])
    poller = ListeningPoller(db, Pipeline(), world.registry())

    async def twice() -> tuple[list[object], list[object]]:
        try:
            return await poller.run_once(), await poller.run_once()
        finally:
            await poller.close()

    first, second = asyncio.run(twice())
    assert [o.stored for o in first] == [1] and second == []


@pytest.mark.parametrize("network", ["mastodon", "bluesky"])
def test_a_429_from_mastodon_or_bluesky_records_their_reset(
    db: Database, world: Networks, network: str
) -> None:
    world.post(network, "Acme Air again")
    client = world.mastodon if network == "mastodon" else world.bluesky
    assert client.post("/_emulator/rate_limit", json={"limit": 0}).status_code == 200
    search_id = saved_search(db, world, account_ids=[world.accounts[network]])
    limited = run(db, world, search_id)
    assert limited.rate_limited == [world.accounts[network]] and limited.stored == 0
    with db.session() as s:
        until = datetime.fromisoformat(
            s.get_one(ListeningSearch, search_id).rate_limited_until[str(world.accounts[network])]
        )
    assert datetime.now(UTC) < until <= datetime.now(UTC) + timedelta(minutes=16)
    assert run(db, world, search_id).rate_limited == [world.accounts[network]]
