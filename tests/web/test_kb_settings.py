"""Settings → Knowledge base: a lead writes an article with a preview, edits it (a new
version with who changed what) and deletes it; agents may not."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.store.db import Database
from socialdesk.store.models import Article, ArticleVersion, AuditEntry
from tests.web.test_pages import app_db, client, sign_in

__all__ = ["app_db", "client"]

FORM = {
    "title": "Where is my parcel?",
    "body": "Track it under **Orders**.\n\n<img src=x onerror=alert(1)>",
    "category": "Delivery",
    "tags": "parcel, tracking",
    "status": "published",
    "visibility": "public",
    "summary_x": "Track your parcel under Orders.",
}


def test_lead_previews_saves_edits_and_deletes(client: TestClient, app_db: Database) -> None:
    csrf = sign_in(client, "lead@example.com")
    assert "Knowledge base" in client.get("/settings/kb").text
    preview = client.post("/settings/kb/save", data={"csrf_token": csrf, "do": "preview", **FORM})
    assert preview.status_code == 200
    assert "Preview (not saved)" in preview.text
    assert "<strong>Orders</strong>" in preview.text
    shown = preview.text.split("Preview (not saved)")[1].split("<form")[0]
    assert "<img" not in shown and "&lt;img" in shown  # raw HTML is shown as text
    with app_db.session() as s:
        assert s.scalar(select(Article.id)) is None

    saved = client.post("/settings/kb/save", data={"csrf_token": csrf, "do": "save", **FORM})
    assert saved.status_code == 303
    page = client.get(saved.headers["location"]).text
    assert "Article saved." in page and "Short link" in page
    with app_db.session() as s:
        article = s.scalars(select(Article)).one()
        assert (article.tags, article.summaries["x"]) == (
            ["parcel", "tracking"],
            FORM["summary_x"],
        )
        article_id = article.id

    edited = client.post(
        "/settings/kb/save",
        data={"csrf_token": csrf, **FORM, "body": "New text", "article_id": str(article_id)},
    )
    assert edited.status_code == 303
    page = client.get(f"/settings/kb/{article_id}").text
    assert "Versions" in page and "<td>body</td>" in page
    with app_db.session() as s:
        assert s.scalar(select(ArticleVersion.version).order_by(ArticleVersion.id.desc())) == 2

    too_long = client.post(
        "/settings/kb/save", data={"csrf_token": csrf, **FORM, "summary_x": "word " * 80}
    )
    assert too_long.status_code == 422
    deleted = client.post(f"/settings/kb/{article_id}/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 303
    with app_db.session() as s:
        assert s.get(Article, article_id) is None
        assert "kb_article.deleted" in s.scalars(select(AuditEntry.action)).all()


def test_agents_cannot_write_articles_on_the_page(client: TestClient) -> None:
    csrf = sign_in(client, "agent@example.com")
    assert client.get("/settings/kb").status_code == 403
    refused = client.post("/settings/kb/save", data={"csrf_token": csrf, **FORM})
    assert refused.status_code == 403
