"""Ticket search has two plans (``store.search.many_matches``): sort the matching tickets
(few matches) or walk the list in order and probe the matches (many). The plan may
change the speed, never the answer: every page, in both sort orders, is the same."""

from __future__ import annotations

import httpx
import pytest

from socialdesk.domain.enums import Platform
from socialdesk.store import search
from tests.api.conftest import Api
from tests.pipeline.helpers import ingest, make_account, post

COMMON = "problem"
RARE = "zanzibarquokka"


def _seed(api: Api) -> None:
    x = make_account(api.db)
    mail = make_account(api.db, Platform.EMAIL, "help@acme.example")
    posts = []
    for i in range(36):
        words = ["hello"]
        if i % 2 == 0:
            words.append(f"a {COMMON} with my order")
        if i in (4, 17, 30):
            words.append(RARE)
        account, platform = (mail, Platform.EMAIL) if i % 5 == 0 else (x, Platform.X)
        author = f"person{i}@example.com" if platform is Platform.EMAIL else f"person{i}"
        # Three tickets per minute: ties on the sort key are broken by id.
        posts.append(
            post(
                account, f"p{i}", " ".join(words), author=author, minutes=i // 3, platform=platform
            )
        )
    ingest(api.db, *posts)


def _all_pages(agent: httpx.Client, q: str, sort: str) -> list[int]:
    ids: list[int] = []
    cursor: str | None = None
    while True:
        params = {"q": q, "sort": sort, "limit": "4", **({"cursor": cursor} if cursor else {})}
        r = agent.get("/tickets", params=params)
        assert r.status_code == 200, r.text
        ids += [t["id"] for t in r.json()["data"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return ids


QUERIES = [COMMON, RARE, f"{COMMON} {RARE}", "probl", f'"a {COMMON}" channel:x', "hello"]


def test_both_plans_give_the_same_pages(
    api: Api, agent: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(api)
    plans: dict[str, dict[tuple[str, str], list[int]]] = {}
    for plan, least in (("sort", 10**9), ("walk", 1)):
        # A threshold of one message sends every word that occurs down the walk.
        monkeypatch.setattr(search, "WALK_MIN_MATCHES", least)
        monkeypatch.setattr(search, "WALK_FACTOR", 0.0)
        with api.db.session() as s:
            assert search.many_matches(s, COMMON) is (plan == "walk")
        plans[plan] = {
            (q, sort): _all_pages(agent, q, sort) for q in QUERIES for sort in ("newest", "oldest")
        }
    assert plans["walk"] == plans["sort"]
    found = plans["sort"]
    assert len(found[(COMMON, "newest")]) == 18
    assert len(found[(RARE, "newest")]) == 3
    assert len(found[(f"{COMMON} {RARE}", "newest")]) == 2
    assert found[(COMMON, "oldest")] == found[(COMMON, "newest")][::-1]


def test_the_plan_follows_the_rarest_word(
    api: Api, agent: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(api)
    monkeypatch.setattr(search, "WALK_MIN_MATCHES", 10)
    monkeypatch.setattr(search, "WALK_FACTOR", 0.0)
    with api.db.session() as s:
        assert search.many_matches(s, COMMON) is True  # in 18 messages
        assert search.many_matches(s, "probl") is True  # the last word is a prefix
        assert search.many_matches(s, RARE) is False  # in 3
        assert search.many_matches(s, f"{COMMON} {RARE}") is False
        assert search.many_matches(s, "@person1") is False  # senders: few tickets
        assert search.many_matches(s, 'say "hi') is False  # text the parser refuses
        assert search.many_matches(s, "") is False
