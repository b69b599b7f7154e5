"""The hybrid knowledge search through HTTP and the real database: full text plus the
encoder's embeddings, which find an article in other words; full text alone with the
encoder off; `socialdesk kb embed` fills what was written while it was off."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from socialdesk.automation.triage_refine import TriageRefineWorker
from socialdesk.cli import app
from socialdesk.config import reset_settings_cache
from socialdesk.domain.enums import Direction
from socialdesk.store.models import Article, ChannelAccount, Message, Workspace
from tests.api.conftest import Api
from tests.api.test_suggestions import _ticket_of, seed_history
from tests.pipeline.helpers import ingest, post

ARTICLES = (
    {
        "title": "Lost baggage claims",
        "body": "If your bag did not come off the carousel, file a claim within 7 days "
        "with your booking reference.",
        "category": "Travel",
        "status": "published",
    },
    {
        "title": "Resetting your password",
        "body": "Use the forgot password link on the sign-in page.",
        "category": "Account",
        "status": "published",
    },
    {
        "title": "Refunds for cancelled flights",
        "body": "When we cancel a flight you get your money back to the original card.",
        "category": "Billing",
        "status": "published",
    },
    {
        "title": "Pets on board",
        "body": "Small cats and dogs may travel in the cabin in a carrier.",
        "category": "Travel",
        "status": "published",
    },
)
# Shares no word (nor stem) with the baggage article.
OTHER_WORDS = "my luggage never arrived"


class Encoder:
    """Turns the encoder setting on and off for the code that reads it per request (the
    app was built with it off, so no triage worker runs beside the test)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def __call__(self, on: bool) -> None:
        self.monkeypatch.setenv("SOCIALDESK_TRIAGE_ENCODER", "true" if on else "false")
        reset_settings_cache()


@pytest.fixture
def encoder(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Encoder]:
    yield Encoder(monkeypatch)
    monkeypatch.undo()
    reset_settings_cache()


def _create_all(admin: httpx.Client) -> dict[str, int]:
    ids = {}
    for body in ARTICLES:
        r = admin.post("/kb/articles", json=body)
        assert r.status_code == 201, r.text
        ids[str(body["title"])] = int(r.json()["id"])
    return ids


def _search(client: httpx.Client, q: str) -> list[dict[str, object]]:
    r = client.get("/kb/articles", params={"q": q})
    assert r.status_code == 200, r.text
    return list(r.json())


def test_hybrid_search_finds_the_article_in_other_words(
    api: Api, admin: httpx.Client, agent: httpx.Client, encoder: Encoder
) -> None:
    encoder(True)
    ids = _create_all(admin)
    with api.db.session() as s:
        stored = {a.title: a.embedding for a in s.scalars(select(Article))}
    assert all(blob is not None and len(blob) == 384 * 2 for blob in stored.values())

    found = _search(agent, OTHER_WORDS)
    assert found and found[0]["title"] == "Lost baggage claims"
    assert found[0]["text_score"] == 0.0
    assert isinstance(found[0]["semantic_score"], float) and found[0]["semantic_score"] > 0.8
    assert found[0]["score"] == max(float(str(a["score"])) for a in found)
    assert "Resetting your password" not in [a["title"] for a in found]

    # A query with the article's own words: both parts count.
    words = _search(agent, "reset password")
    assert words[0]["title"] == "Resetting your password"
    assert float(str(words[0]["text_score"])) == 1.0 and words[0]["semantic_score"] is not None

    # Text alone does not find it.
    encoder(False)
    assert _search(agent, OTHER_WORDS) == []
    baggage = _search(agent, "baggage")
    assert [a["title"] for a in baggage] == ["Lost baggage claims"]
    assert baggage[0]["semantic_score"] is None
    assert baggage[0]["score"] == baggage[0]["text_score"] == 1.0

    # Editing the words re-embeds; editing the state alone keeps the embedding.
    encoder(True)
    pets = ids["Pets on board"]
    assert admin.patch(f"/kb/articles/{pets}", json={"status": "draft"}).status_code == 200
    with api.db.session() as s:
        assert s.get_one(Article, pets).embedding == stored["Pets on board"]
    r = admin.patch(f"/kb/articles/{pets}", json={"body": "Animals fly in the hold."})
    assert r.status_code == 200
    with api.db.session() as s:
        assert s.get_one(Article, pets).embedding not in (None, stored["Pets on board"])


def test_articles_written_with_the_encoder_off_are_embedded_by_kb_embed(
    api: Api, admin: httpx.Client, agent: httpx.Client, encoder: Encoder
) -> None:
    _create_all(admin)
    with api.db.session() as s:
        assert all(a.embedding is None for a in s.scalars(select(Article)))
    encoder(True)
    # Nothing is embedded on a read: until the backfill runs the search is full text.
    assert _search(agent, OTHER_WORDS) == []
    with api.db.session() as s:
        assert all(a.embedding is None for a in s.scalars(select(Article)))

    runner = CliRunner()
    encoder.monkeypatch.setenv("SOCIALDESK_DATABASE_URL", api.db.url)
    reset_settings_cache()
    result = runner.invoke(app, ["kb", "embed"])
    assert result.exit_code == 0, result.output
    assert "4 articles embedded" in result.output
    again = runner.invoke(app, ["kb", "embed"])
    assert again.exit_code == 0 and "0 articles embedded" in again.output
    assert "4 articles embedded" in runner.invoke(app, ["kb", "embed", "--all"]).output

    assert _search(agent, OTHER_WORDS)[0]["title"] == "Lost baggage claims"

    encoder(False)
    refused = runner.invoke(app, ["kb", "embed"])
    assert refused.exit_code == 2 and "encoder is off" in refused.output


def test_suggestions_rank_by_meaning_with_the_encoder_on(
    api: Api, admin: httpx.Client, agent: httpx.Client, encoder: Encoder
) -> None:
    ticket_id = seed_history(api)  # the ticket asks: "my parcel has not arrived yet"
    encoder(True)
    _create_all(admin)
    r = admin.post(
        "/kb/articles",
        json={
            "title": "Late deliveries",
            "body": "Couriers take up to 5 working days.",
            "status": "published",
        },
    )
    assert r.status_code == 201

    found = agent.get(f"/tickets/{ticket_id}/suggestions").json()
    titles = [a["title"] for a in found["articles"]]
    assert titles and titles[0] in {"Late deliveries", "Lost baggage claims"}
    assert all(a["semantic_score"] is not None for a in found["articles"])
    assert "Resetting your password" not in titles
    answers = found["answers"]
    assert answers[0]["answer"].startswith("@tom So sorry the parcel is late!")
    assert answers[0]["text_score"] > 0

    encoder(False)
    text_only = agent.get(f"/tickets/{ticket_id}/suggestions").json()
    assert text_only["articles"] == []  # no article shares a word with the question
    assert all(a["semantic_score"] is None for a in text_only["answers"])
    assert text_only["answers"][0]["answer"] == answers[0]["answer"]


def test_the_help_centre_page_searches_by_meaning_too(
    api: Api, admin: httpx.Client, encoder: Encoder
) -> None:
    encoder(True)
    _create_all(admin)
    with api.db.session() as s:
        slug = s.scalars(select(Workspace.slug)).one()
    with httpx.Client(base_url=api.base_url, timeout=30) as public:
        page = public.get(f"/help/{slug}", params={"q": OTHER_WORDS})
        assert page.status_code == 200
        assert _results(page.text)[0] == "Lost baggage claims"
        encoder(False)
        text_only = public.get(f"/help/{slug}", params={"q": OTHER_WORDS})
        assert text_only.status_code == 200 and _results(text_only.text) == []
        assert "Nothing matched" in text_only.text


def _results(html: str) -> list[str]:
    """The titles in the page's search results (the category lists follow them)."""
    section = html.split('<section aria-labelledby="results-title">')[1].split("</section>")[0]
    return re.findall(r'<a href="/help/[^"]+">([^<]+)</a>', section)


def test_past_answers_are_found_by_the_stored_message_embeddings(
    api: Api, agent: httpx.Client, encoder: Encoder
) -> None:
    seed_history(api)  # "my parcel never arrived, order 5531" was answered
    with api.db.session() as s:
        account = s.scalars(select(ChannelAccount.id)).one()
    # Shares no word with any past question.
    ingest(api.db, post(account, "p10", "@AcmeSupport my package still has not shown up",
                        author="zoe", minutes=10))  # fmt: skip
    encoder(True)
    # The encoder pass stores each customer message's embedding; suggestions reuse them.
    # (The messages came in with it off: marked as migration 0038 marks old ones.)
    with api.db.write() as s:
        inbound = update(Message).where(Message.direction == Direction.INBOUND)
        s.execute(inbound.values(triage_pending=True))
    assert TriageRefineWorker(api.db).run_once() == 5
    ticket_id = _ticket_of(api, "p10")

    answers = agent.get(f"/tickets/{ticket_id}/suggestions").json()["answers"]
    assert [a["answer"] for a in answers] == [
        "@zoe So sorry the parcel is late! DM us and we send a new one. ^A"
    ]
    assert answers[0]["text_score"] == 0.0 and answers[0]["semantic_score"] >= 0.9

    encoder(False)
    assert agent.get(f"/tickets/{ticket_id}/suggestions").json()["answers"] == []
