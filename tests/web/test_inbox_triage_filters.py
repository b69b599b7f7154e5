"""The inbox page's triage filters and "Urgency" sort list exactly what
``GET /api/v1/tickets`` lists for the same filters (one ``TicketFilter``, two doors)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.config import Settings
from socialdesk.store.db import Database
from socialdesk.store.models import Ticket
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_pages import PASSWORD, app_db, client, sign_in
from tests.web.test_sla_pages import listed

__all__ = ["app_db", "client"]

POSTS = [
    ("a1", "1", "@AcmeSupport my parcel never arrived, this is awful!!"),
    ("b1", "2", "@AcmeSupport do you have the blue jacket in size M?"),
    ("c1", "3", "@AcmeSupport my card was charged twice and nobody answers, this is a scam!!"),
    ("d1", "4", "@AcmeSupport love the new app, great job"),
]


def _seed(db: Database) -> dict[str, Ticket]:
    x = make_account(db)
    pipeline = build_pipeline(Settings())
    for pid, author, body in POSTS:
        ingest(db, post(x, pid, body, author=author), pipeline=pipeline)
    with db.session() as s:
        return {t.subject: t for t in s.scalars(select(Ticket))}


def _api_ids(client: TestClient, **params: object) -> list[int]:
    token = client.post(
        "/api/v1/auth/token", json={"email": "agent@example.com", "password": PASSWORD}
    ).json()["access_token"]
    r = client.get(
        "/api/v1/tickets",
        params={"view": "open", **params},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    return [t["id"] for t in r.json()["data"]]


def test_triage_filters_match_the_api(client: TestClient, app_db: Database) -> None:
    tickets = _seed(app_db)
    sign_in(client, "agent@example.com")
    page = client.get("/inbox?view=open")
    assert page.status_code == 200
    assert 'name="sentiment"' in page.text and 'name="min_urgency"' in page.text
    assert len(listed(page.text)) == 4
    for params in (
        {"sentiment": "negative"},
        {"intent": "question"},
        {"topic": "Billing"},
        {"min_urgency": "50"},
        {"sentiment": "negative", "topic": "Delivery"},
    ):
        on_page = listed(client.get("/inbox", params={"view": "open", **params}).text)
        assert sorted(on_page) == sorted(_api_ids(client, **params)), params
        assert on_page, params
    asking = next(t for subject, t in tickets.items() if "jacket" in subject)
    assert listed(client.get("/inbox?view=open&intent=question").text) == [asking.id]
    # The form's "any" sends empty values: no narrowing, no error.
    empty = client.get("/inbox?view=open&sentiment=&intent=&topic=&min_urgency=")
    assert empty.status_code == 200 and len(listed(empty.text)) == 4
    for bad in ("sentiment=furious", "intent=rant", "min_urgency=101", "min_urgency=-1"):
        assert client.get(f"/inbox?view=open&{bad}").status_code == 422, bad


def test_sort_by_urgency_most_urgent_first(client: TestClient, app_db: Database) -> None:
    tickets = _seed(app_db)
    sign_in(client, "agent@example.com")
    page = client.get("/inbox?view=open&sort=urgency")
    assert page.status_code == 200
    order = listed(page.text)
    by_id = {t.id: t for t in tickets.values()}
    urgencies = [by_id[i].urgency or -1 for i in order]
    assert urgencies == sorted(urgencies, reverse=True) and len(order) == 4
    # The sort links keep the triage narrowing.
    narrowed = client.get("/inbox?view=open&sentiment=negative&sort=urgency").text
    assert (
        "sentiment=negative&amp;sort=newest" in narrowed
        or "sentiment=negative&sort=newest" in narrowed
    )


def test_viewer_reads_the_filters_too(client: TestClient, app_db: Database) -> None:
    _seed(app_db)
    sign_in(client, "viewer@example.com")
    assert client.get("/inbox?view=open&sentiment=negative").status_code == 200


def test_the_search_box_keeps_the_view_it_was_typed_in(
    client: TestClient, app_db: Database
) -> None:
    _seed(app_db)
    sign_in(client, "agent@example.com")
    for view in ("open", "needs_reply", "unassigned"):
        page = client.get(f"/inbox?view={view}").text
        form = page[page.index('<form class="search"') :]
        form = form[: form.index("</form>")]
        assert f'<input type="hidden" name="view" value="{view}">' in form, view
