"""Ticket search through the real HTTP API and the inbox page, on the real database:
words in messages, subjects, customer names, handles and addresses; qualifiers; text
that is query syntax elsewhere; what was just written is found at once."""

from __future__ import annotations

import re
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import select

from socialdesk.domain.enums import Platform
from socialdesk.domain.messages import InboundMessage
from socialdesk.store.models import Contact, Message
from tests.api.conftest import PASSWORD, Api
from tests.pipeline.helpers import ingest, make_account, post


def _as(message: InboundMessage, **author: str) -> InboundMessage:
    return replace(message, author=replace(message.author, **author))


def _seed(api: Api) -> dict[str, int]:
    x = make_account(api.db)
    mail = make_account(api.db, Platform.EMAIL, "help@acme.example")
    ingest(
        api.db,
        _as(post(x, "1", "My parcel never arrived", author="jane_doe"), display_name="Jane Doe"),
        post(x, "2", "Sorry! Please DM us the tracking number", outbound=True, reply_to="1"),
        _as(post(x, "3", "The app crashes on login", author="bob77", minutes=10),
            display_name="Zoë Kowalski"),
        replace(
            _as(post(mail, "<m4@example.com>", "See the attached scan.", author="ann@example.com",
                     minutes=20, platform=Platform.EMAIL), email="ann@example.com"),
            subject="Invoice 4471 is missing",
        ),
    )  # fmt: skip
    with api.db.session() as s:
        ids = {
            pid: int(tid)
            for pid, tid in s.execute(select(Message.platform_message_id, Message.ticket_id))
        }
    return {"parcel": ids["1"], "crash": ids["3"], "invoice": ids["<m4@example.com>"]}


def _ids(agent: httpx.Client, q: str, **params: str) -> list[int]:
    r = agent.get("/tickets", params={"q": q, **params})
    assert r.status_code == 200, (q, r.text)
    return [t["id"] for t in r.json()["data"]]


def test_search_finds_messages_subjects_names_handles_and_addresses(
    api: Api, agent: httpx.Client
) -> None:
    t = _seed(api)
    cases = {
        "tracking": [t["parcel"]],  # a word in the brand's reply, not the first message
        "TRACKING NUMBER": [t["parcel"]],  # case, and words of one message
        "parc": [t["parcel"]],  # the last word is a prefix
        '"tracking number"': [t["parcel"]],
        '"number tracking"': [],  # a phrase keeps its order
        "invoice 4471": [t["invoice"]],  # the e-mail's subject
        "kowalski": [t["crash"]],  # the customer's name
        "zoe": [t["crash"]],  # accents folded on SQLite; PostgreSQL's name has "zoë"
        "jane parcel": [t["parcel"]],  # name and message words together
        "jane crashes": [],  # every word must match the same ticket
        "@jane_doe": [t["parcel"]],
        "@JANE_DOE": [t["parcel"]],
        "@jane": [],  # a handle is matched whole
        "from:bob77": [t["crash"]],
        "from:ann@example.com": [t["invoice"]],
        "ann@example.com": [t["invoice"]],  # an address as a word
        "channel:x": [t["crash"], t["parcel"]],
        "channel:email": [t["invoice"]],
        "parcel channel:email": [],
        "crashes channel:x,email": [t["crash"]],
        "nothing-like-this": [],
    }
    if api.db.is_sqlite is False:
        cases["zoe"] = []  # the "simple" configuration keeps accents
        cases["zoë"] = [t["crash"]]
    found = {q: _ids(agent, q) for q in cases}
    assert found == cases


def test_search_combines_with_filters_and_pages(api: Api, agent: httpx.Client) -> None:
    t = _seed(api)
    assert _ids(agent, "the", status="pending") == [t["parcel"]]
    assert _ids(agent, "the", status="new") == [t["invoice"], t["crash"]]
    first = agent.get("/tickets", params={"q": "channel:x", "limit": 1}).json()
    assert [r["id"] for r in first["data"]] == [t["crash"]]
    rest = agent.get(
        "/tickets", params={"q": "channel:x", "limit": 1, "cursor": first["next_cursor"]}
    ).json()
    assert [r["id"] for r in rest["data"]] == [t["parcel"]] and rest["next_cursor"] is None
    assert _ids(agent, "channel:x", sort="oldest") == [t["parcel"], t["crash"]]


@pytest.mark.parametrize(
    "q",
    ['"', '""', 'say "hi', "*", "parcel*", "NEAR", "NEAR(parcel arrived)", "-parcel", "parcel -",
     ":", "a:b", "body:parcel", "^parcel", "(parcel)", "parcel OR app", "parcel AND", "'",
     "it's", "\\", "%", "_", "\u00a0", "@", "from:", "@@", "x:*", "parcel:*", "!&|<->"],
)  # fmt: skip
def test_query_syntax_is_text_never_a_500(api: Api, agent: httpx.Client, q: str) -> None:
    _seed(api)
    r = agent.get("/tickets", params={"q": q})
    assert r.status_code == 200, r.text


def test_bad_qualifiers_get_a_422_with_the_reason(api: Api, agent: httpx.Client) -> None:
    r = agent.get("/tickets", params={"q": "refund channel:myspace"})
    assert r.status_code == 422
    assert "unknown channel 'myspace'" in r.json()["error"]["reason"]


def test_what_was_just_written_is_found(api: Api, agent: httpx.Client) -> None:
    t = _seed(api)
    account = make_account(api.db, handle="OtherBrand")
    assert _ids(agent, "kumquat") == []
    ingest(api.db, post(account, "9", "Where are my kumquat seeds?", author="grower", minutes=30))
    kumquat = _ids(agent, "kumquat")
    assert len(kumquat) == 1 and kumquat != [t["parcel"]]
    r = agent.post(f"/tickets/{t['parcel']}/replies", json={"body": "Your rutabaga ships today"})
    assert r.status_code == 201, r.text
    assert _ids(agent, "rutabaga") == [t["parcel"]]
    # A customer's details changing re-indexes them (the update trigger on SQLite).
    with api.db.write() as s:
        contact = s.scalar(select(Contact).where(Contact.display_name == "Jane Doe"))
        assert contact is not None
        contact.display_name = "Jane Marple"
        contact.email = "jane@marple.example"
    assert _ids(agent, "marple") == [t["parcel"]]
    assert _ids(agent, "from:jane@marple.example") == [t["parcel"]]


def _signed_in(api: Api) -> httpx.Client:
    page = httpx.Client(base_url=api.base_url, timeout=30)
    form = page.get("/login").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert match
    r = page.post(
        "/login", data={"email": "agent@example.com", "password": PASSWORD, "csrf_token": match[1]}
    )
    assert r.status_code == 303, r.text
    return page


def _page_ids(page: httpx.Client, q: str) -> list[int]:
    inbox = page.get("/inbox", params={"view": "open", "q": q})
    assert inbox.status_code == 200, inbox.text
    return [int(i) for i in re.findall(r'data-ticket-id="(\d+)"', inbox.text)]


def test_the_inbox_page_and_the_api_agree(api: Api, agent: httpx.Client) -> None:
    _seed(api)
    page = _signed_in(api)
    try:
        for q in ("parcel", "@jane_doe", "kowalski", "invoice", "channel:x", '"tracking number"',
                  "from:ann@example.com", "NEAR -", "nothing"):  # fmt: skip
            assert _page_ids(page, q) == _ids(agent, q, status="unsolved"), q
        refused = page.get("/inbox", params={"q": "refund channel:fax"})
        assert refused.status_code == 422
        assert "unknown channel" in refused.text
    finally:
        page.close()
