"""The public help centre: an article an admin publishes appears at /help/<workspace>,
in its search, with card meta tags; "was this helpful?" and short-link clicks count."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.actions.admin import create_channel_account
from socialdesk.domain.enums import Platform
from socialdesk.knowledge.help_centre import duration, opening_hours
from socialdesk.sla.admin import create_policy
from socialdesk.store.db import Database
from socialdesk.store.models import Article, ArticleClicks, Workspace
from tests.web.test_canned_responses import _bearer
from tests.web.test_pages import app_db, client, sign_in

__all__ = ["app_db", "client"]

WEEKDAYS = {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.mark.parametrize(
    ("calendar", "said"),
    [
        (None, "around the clock"),
        (
            {"timezone": "Europe/Berlin", "hours": WEEKDAYS},
            "Mon\N{EN DASH}Fri 08:00\N{EN DASH}20:00 (Europe/Berlin)",
        ),
        (
            {
                "hours": {
                    "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
                    "wed": [["09:00", "17:00"]],
                }
            },
            "Mon 09:00\N{EN DASH}12:00, 13:00\N{EN DASH}17:00, Wed 09:00\N{EN DASH}17:00",
        ),
        ({"hours": {}}, "closed"),
    ],
)
def test_opening_hours(calendar: dict[str, Any] | None, said: str) -> None:
    assert opening_hours(calendar) == said


@pytest.mark.parametrize(
    ("minutes", "said"),
    [(45, "45 minutes"), (60, "1 hour"), (90, "1 hour 30 minutes"), (2880, "2 days")],
)
def test_duration(minutes: int, said: str) -> None:
    assert duration(minutes) == said


def _publish(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = client.post("/api/v1/kb/articles", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def seed_help_centre(client: TestClient, app_db: Database) -> dict[str, Any]:
    with app_db.write() as s:
        ws = s.scalars(select(Workspace)).one()
        create_channel_account(
            s, None, workspace_id=ws.id, platform=Platform.X, handle="@AcmeHelp", external_id="1"
        )
        create_policy(
            s,
            None,
            ws.id,
            name="Social",
            channels=["x"],
            targets=[{"channel": None, "priority": None, "first_response_minutes": 60}],
            calendar={"timezone": "Europe/Berlin", "hours": WEEKDAYS},
        )
        slug = ws.slug
    admin = _bearer(client, "admin@example.com")
    refund = _publish(
        client,
        admin,
        title="How to ask for a refund",
        body="Open **Orders** and choose *Refund*. Refunds take 5 days.",
        category="Billing",
        status="published",
        summaries={"x": "Refunds: Orders → Refund, 5 days."},
    )
    _publish(client, admin, title="Crisis plan", body="Call the lead.", status="published",
             visibility="internal")  # fmt: skip
    _publish(client, admin, title="Unfinished refund draft", body="refund", category="Billing")
    return {"slug": slug, "refund": refund}


def test_published_article_on_the_help_centre(client: TestClient, app_db: Database) -> None:
    seeded = seed_help_centre(client, app_db)
    slug, refund = seeded["slug"], seeded["refund"]
    home = client.get(f"/help/{slug}")
    assert home.status_code == 200
    assert "Billing" in home.text and "How to ask for a refund" in home.text
    assert "Crisis plan" not in home.text and "Unfinished" not in home.text
    assert "We answer on" in home.text and "within 1 hour" in home.text
    assert "Mon\N{EN DASH}Fri 08:00\N{EN DASH}20:00 (Europe/Berlin)" in home.text
    assert 'href="https://x.com/AcmeHelp"' in home.text

    found = client.get(f"/help/{slug}", params={"q": "refunded"})
    assert "1 article for" in found.text
    assert (
        client.get(f"/help/{slug}", params={"q": "crisis"}).text.count("/help/default/crisis") == 0
    )

    page = client.get(f"/help/{slug}/{refund['slug']}")
    assert page.status_code == 200
    assert "<strong>Orders</strong>" in page.text
    assert '<meta property="og:title" content="How to ask for a refund' in page.text
    assert '<meta property="og:type" content="article">' in page.text
    assert '<meta name="twitter:card" content="summary">' in page.text
    assert 'content="Refunds: Orders → Refund, 5 days."' in page.text
    assert "<script" not in page.text
    assert client.get(f"/help/{slug}/crisis-plan").status_code == 404
    assert client.get("/help/nobody").status_code == 404


def test_feedback_and_short_link_clicks_count(client: TestClient, app_db: Database) -> None:
    seeded = seed_help_centre(client, app_db)
    slug, refund = seeded["slug"], seeded["refund"]
    url = f"/help/{slug}/{refund['slug']}"
    for answer in ("yes", "yes", "no"):
        r = client.post(f"{url}/feedback", data={"helpful": answer})
        assert r.status_code == 303 and r.headers["location"] == f"{url}?thanks={answer}"
    assert "Thank you for telling us." in client.get(f"{url}?thanks=yes").text
    assert client.post(f"{url}/feedback", data={"helpful": "nah"}).status_code == 400
    assert client.post(f"{url}/feedback", data={"helpful": "maybe"}).status_code == 422

    code = refund["short_code"]
    for channel in ("x", "x", "bluesky", None, "<script>"):
        r = client.get(f"/h/{code}", params={"c": channel} if channel else {})
        assert r.status_code == 302 and r.headers["location"] == url
    assert client.get("/h/nothing").status_code == 404
    with app_db.session() as s:
        article = s.get(Article, refund["id"])
        assert article is not None
        assert (article.helpful_yes, article.helpful_no) == (2, 1)
        counted = dict(
            s.execute(
                select(ArticleClicks.channel, ArticleClicks.clicks).where(
                    ArticleClicks.article_id == refund["id"]
                )
            ).all()
        )
    assert counted == {"x": 2, "bluesky": 1, "direct": 1, "other": 1}
    page = client.get(url).text
    assert re.search(r"/h/" + code, page)
    sign_in(client, "lead@example.com")
    settings_page = client.get(f"/settings/kb/{refund['id']}").text
    assert "Clicks by channel: x 2, bluesky 1, direct 1, other 1" in settings_page
    assert 'href="/help/default"' in client.get("/settings/kb").text
