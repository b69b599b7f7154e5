"""Knowledge-base articles through the API and the database: roles, versions, search."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from socialdesk.store.models import AuditEntry, LiveFeedEntry
from tests.api.conftest import Api

REFUND = {
    "title": "How to ask for a refund",
    "body": "Open **Orders**, pick the order and choose *Refund*.\n\n<script>alert(1)</script>",
    "category": "Billing",
    "tags": ["refund", "Orders"],
    "status": "published",
    "visibility": "public",
    "summaries": {"x": "Refunds: Orders → pick the order → Refund."},
}
GUIDE = {
    "title": "Posting guidelines",
    "body": "Sign every public reply with your initials.",
    "category": "Team",
    "status": "published",
    "visibility": "internal",
}


def _create(client: httpx.Client, body: dict[str, object]) -> dict[str, object]:
    r = client.post("/kb/articles", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_admin_writes_agent_reads_internal_viewer_reads_public(
    api: Api, admin: httpx.Client, agent: httpx.Client
) -> None:
    refund = _create(admin, REFUND)
    guide = _create(admin, GUIDE)
    draft = _create(admin, {"title": "Upcoming pricing", "body": "secret"})
    assert refund["slug"] == "how-to-ask-for-a-refund"
    assert refund["tags"] == ["orders", "refund"]
    assert "<strong>Orders</strong>" in str(refund["html"])
    assert "<script>" not in str(refund["html"])
    assert draft["status"] == "draft"

    assert agent.post("/kb/articles", json=REFUND).status_code == 403
    assert agent.patch(f"/kb/articles/{refund['id']}", json={"title": "x"}).status_code == 403
    seen_by_agent = {a["title"] for a in agent.get("/kb/articles").json()}
    assert seen_by_agent == {REFUND["title"], GUIDE["title"]}
    assert agent.get(f"/kb/articles/{draft['id']}").status_code == 404

    with api.client(api.token("viewer@example.com")) as viewer:
        assert [a["title"] for a in viewer.get("/kb/articles").json()] == [REFUND["title"]]
        assert viewer.get(f"/kb/articles/{guide['id']}").status_code == 404
        assert viewer.delete(f"/kb/articles/{refund['id']}").status_code == 403

    with api.db.session() as s:
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.object_type == "kb_article")
        ).all()
        assert actions.count("kb_article.created") == 3
        kinds = s.scalars(select(LiveFeedEntry.kind)).all()
        assert "kb_article.changed" in kinds


def test_versions_say_who_changed_what(admin: httpx.Client) -> None:
    article = _create(admin, REFUND)
    r = admin.patch(
        f"/kb/articles/{article['id']}", json={"body": "New steps.", "category": "Billing"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    # nothing changed: no new version
    assert (
        admin.patch(f"/kb/articles/{article['id']}", json={"body": "New steps."}).json()["version"]
        == 2
    )
    versions = admin.get(f"/kb/articles/{article['id']}/versions").json()
    assert (versions[0]["version"], versions[0]["changed_fields"]) == (2, ["body"])
    assert versions[-1]["version"] == 1
    assert versions[0]["user_id"] is not None


def test_search_ranks_by_words(admin: httpx.Client, agent: httpx.Client) -> None:
    _create(admin, REFUND)
    _create(admin, GUIDE)
    _create(
        admin,
        {
            "title": "Track your delivery",
            "body": "Your parcel's tracking number is in the e-mail.",
            "status": "published",
        },
    )
    found = agent.get("/kb/articles", params={"q": "refunded orders"}).json()
    assert [a["title"] for a in found] == [REFUND["title"]]
    assert found[0]["score"] > 0
    found = agent.get("/kb/articles", params={"q": "where is my parcel tracking"}).json()
    assert found[0]["title"] == "Track your delivery"
    assert agent.get("/kb/articles", params={"q": "zebra"}).json() == []
    # internal articles are found by agents only
    assert agent.get("/kb/articles", params={"q": "initials"}).json()[0]["title"] == GUIDE["title"]
    by_category = agent.get("/kb/articles", params={"category": "billing"}).json()
    assert [a["title"] for a in by_category] == [REFUND["title"]]


def test_bad_input_is_refused_with_a_reason(admin: httpx.Client) -> None:
    too_long = {"title": "Long", "summaries": {"x": "word " * 80}}
    r = admin.post("/kb/articles", json=too_long)
    assert r.status_code == 422 and "x summary" in r.text
    assert (
        admin.post("/kb/articles", json={"title": "A", "summaries": {"myspace": "hi"}}).status_code
        == 422
    )
    assert admin.post("/kb/articles", json={"title": "A", "status": "live"}).status_code == 422
    assert admin.post("/kb/articles", json={"title": ""}).status_code == 422
    assert admin.get("/kb/articles/999999").status_code == 404
    a = _create(admin, {"title": "Same"})
    b = _create(admin, {"title": "Same"})
    assert (a["slug"], b["slug"]) == ("same", "same-2")
    assert admin.delete(f"/kb/articles/{a['id']}").status_code == 204
    assert admin.get(f"/kb/articles/{a['id']}").status_code == 404
