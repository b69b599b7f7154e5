from __future__ import annotations

import httpx
from sqlalchemy import select

from tests.api.conftest import Api
from tests.pipeline.helpers import ingest, make_account, post


def _seed(api: Api) -> int:
    acct = make_account(api.db)
    ingest(
        api.db,
        post(acct, "1", "@AcmeSupport my parcel is lost", author="a1"),
        post(acct, "2", "Sorry! DM us the order number", outbound=True, reply_to="1", minutes=3),
        post(acct, "3", "@AcmeSupport app crashes on login", author="a2", minutes=10),
        post(acct, "4", "@AcmeSupport refund please", author="a3", minutes=20),
    )
    return acct


def test_list_filter_paginate(api: Api, agent: httpx.Client) -> None:
    acct = _seed(api)
    page = agent.get("/tickets", params={"limit": 2}).json()
    assert [t["subject"] for t in page["data"]] == [
        "@AcmeSupport refund please",
        "@AcmeSupport app crashes on login",
    ]
    rest = agent.get("/tickets", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [t["subject"] for t in rest["data"]] == ["@AcmeSupport my parcel is lost"]
    assert rest["next_cursor"] is None
    oldest = agent.get("/tickets", params={"sort": "oldest"}).json()["data"]
    assert oldest[0]["subject"] == "@AcmeSupport my parcel is lost"
    assert len(agent.get("/tickets", params={"status": "new"}).json()["data"]) == 2
    assert len(agent.get("/tickets", params={"status": "pending"}).json()["data"]) == 1
    assert (
        len(
            agent.get(
                "/tickets", params={"status": "unsolved", "channel": "x", "account": acct}
            ).json()["data"]
        )
        == 3
    )
    assert agent.get("/tickets", params={"channel": "email"}).json()["data"] == []
    found = agent.get("/tickets", params={"q": "ORDER NUMBER"}).json()["data"]
    assert [t["subject"] for t in found] == ["@AcmeSupport my parcel is lost"]
    first = found[0]
    assert first["contact"]["display_name"] == "a1"
    assert first["first_response_at"] is not None


def test_bad_list_requests_get_clear_4xx(agent: httpx.Client) -> None:
    for params, status in (
        ({"status": "bogus"}, 422),
        ({"channel": "myspace"}, 422),
        ({"limit": 0}, 422),
        ({"limit": "ten"}, 422),
        ({"cursor": "garbage!"}, 422),
        ({"assignee": "someone"}, 422),
        ({"sort": "random"}, 422),
    ):
        r = agent.get("/tickets", params=params)
        assert r.status_code == status, (params, r.text)
        assert r.json()["error"]["reason"]
    assert agent.get("/tickets/999999").status_code == 404
    assert agent.get("/tickets/abc").status_code == 422


def test_reply_note_assign_status_tags(api: Api, agent: httpx.Client) -> None:
    _seed(api)
    ticket = agent.get("/tickets", params={"q": "crashes"}).json()["data"][0]
    tid = ticket["id"]
    r = agent.post(
        f"/tickets/{tid}/replies",
        json={"body": "Sorry about that! Which version?", "client_key": "k1"},
    )
    assert r.status_code == 201, r.text
    reply = r.json()
    assert reply["direction"] == "outbound" and reply["delivery_state"] == "queued"
    again = agent.post(
        f"/tickets/{tid}/replies",
        json={"body": "Sorry about that! Which version?", "client_key": "k1"},
    )
    assert again.json()["id"] == reply["id"]  # a double click stores one reply
    assert agent.post(f"/tickets/{tid}/replies", json={"body": "   "}).status_code == 400
    assert (
        agent.post(f"/tickets/{tid}/notes", json={"body": "customer is on iOS 11"}).status_code
        == 201
    )

    me = agent.get("/me").json()
    detail = agent.patch(
        f"/tickets/{tid}",
        json={"assignee_id": me["id"], "priority": "high", "tags": ["Login", "ios", "login"]},
    ).json()
    assert detail["assignee_id"] == me["id"]
    assert detail["priority"] == "high"
    assert detail["tags"] == ["ios", "login"]
    assert detail["status"] == "pending"
    assert [m["direction"] for m in detail["messages"]] == ["inbound", "outbound", "note"]
    assert agent.patch(f"/tickets/{tid}", json={"status": "solved"}).json()["status"] == "solved"
    assert agent.patch(f"/tickets/{tid}", json={"status": "new"}).status_code == 422
    assert agent.patch(f"/tickets/{tid}", json={}).status_code == 422
    assert agent.patch(f"/tickets/{tid}", json={"priority": "whenever"}).status_code == 422
    assert agent.patch(f"/tickets/{tid}", json={"assignee_id": 987654}).status_code == 422

    kinds = [e["kind"] for e in agent.get(f"/tickets/{tid}/events").json()]
    for kind in (
        "replied",
        "note_added",
        "assigned",
        "priority_changed",
        "tags_changed",
        "status_changed",
    ):
        assert kind in kinds
    mine = agent.get("/tickets", params={"assignee": "me"}).json()["data"]
    assert [t["id"] for t in mine] == [tid]
    assert agent.get("/tickets", params={"tag": "ios"}).json()["data"][0]["id"] == tid


def test_viewer_reads_but_cannot_write(api: Api) -> None:
    _seed(api)
    with api.client(api.token("viewer@example.com")) as viewer:
        tickets = viewer.get("/tickets").json()["data"]
        assert tickets
        r = viewer.post(f"/tickets/{tickets[0]['id']}/replies", json={"body": "hi"})
        assert r.status_code == 403


def test_contacts_and_their_tickets(api: Api, agent: httpx.Client) -> None:
    _seed(api)
    contacts = agent.get("/contacts", params={"q": "a2"}).json()["data"]
    assert len(contacts) == 1
    cid = contacts[0]["id"]
    assert contacts[0]["identities"][0]["platform"] == "x"
    tickets = agent.get(f"/contacts/{cid}/tickets").json()["data"]
    assert [t["subject"] for t in tickets] == ["@AcmeSupport app crashes on login"]
    other = agent.get("/contacts", params={"q": "a3"}).json()["data"][0]["id"]
    merged = agent.post(f"/contacts/{cid}/merge", json={"other_contact_id": other}).json()
    assert len(merged["identities"]) == 2
    assert agent.post(f"/contacts/{cid}/merge", json={"other_contact_id": cid}).status_code == 422


def test_move_to_private_invites_publicly_and_dm_lands_in_same_ticket(
    api: Api, agent: httpx.Client
) -> None:
    acct = _seed(api)
    ticket = agent.get("/tickets", params={"q": "crashes"}).json()["data"][0]
    r = agent.post(f"/tickets/{ticket['id']}/move-to-private", json={"mode": "invite"})
    assert r.status_code == 201, r.text
    assert r.json()["visibility"] == "public" and "DM" in r.json()["body"]
    assert (
        agent.post(f"/tickets/{ticket['id']}/move-to-private", json={"mode": "dm"}).status_code
        == 422
    )
    assert (
        agent.post(
            f"/tickets/{ticket['id']}/move-to-private", json={"mode": "carrier pigeon"}
        ).status_code
        == 422
    )
    # The customer answers by DM: it joins the same ticket.
    ingest(
        api.db,
        post(
            acct,
            "dm-77",
            "my account is a2@example.com",
            author="a2",
            minutes=30,
            conversation="c-a2",
        ),
    )
    detail = agent.get(f"/tickets/{ticket['id']}").json()
    dm = [m for m in detail["messages"] if m["platform_message_id"] == "dm-77"]
    assert len(dm) == 1 and dm[0]["visibility"] == "private"
    kinds = [e["kind"] for e in agent.get(f"/tickets/{ticket['id']}/events").json()]
    assert "moved_to_private" in kinds


def test_channel_health_reports_activity_and_queue(api: Api, agent: httpx.Client) -> None:
    acct = _seed(api)
    before = agent.get(f"/channel-accounts/{acct}/health").json()
    assert before["needs_reauthorization"] is False
    assert before["last_received_at"] is None  # seeded through the pipeline, not a webhook
    assert before["silence"]["silent"] is False and before["silence"]["reason"]
    assert (before["queued_replies"], before["failed_replies"]) == (0, 0)
    ticket = agent.get("/tickets").json()["data"][0]
    agent.post(f"/tickets/{ticket['id']}/replies", json={"body": "On it"})
    # The account has no credentials, so the reply is queued or, once the worker tried,
    # failed with the account marked for re-authorization.
    after = agent.get(f"/channel-accounts/{acct}/health").json()
    assert after["queued_replies"] + after["failed_replies"] == 1
    assert after["needs_reauthorization"] is (after["failed_replies"] == 1)
    assert agent.get("/channel-accounts/999999/health").status_code == 404


def test_a_reply_without_visibility_answers_the_way_the_customer_wrote(
    api: Api, agent: httpx.Client
) -> None:
    account = make_account(api.db)
    ingest(api.db, post(account, "dm1", "my card was charged twice", conversation="conv-9"))
    ingest(api.db, post(account, "tw1", "@Acme my parcel is late", author="other"))
    by_body = {t["subject"]: t["id"] for t in agent.get("/tickets").json()["data"]}
    dm_ticket = next(tid for subject, tid in by_body.items() if "charged" in subject)
    public_ticket = next(tid for subject, tid in by_body.items() if "parcel" in subject)
    dm_reply = agent.post(f"/tickets/{dm_ticket}/replies", json={"body": "Sorry! Checking."})
    assert dm_reply.status_code == 201, dm_reply.text
    assert dm_reply.json()["visibility"] == "private"
    public_reply = agent.post(f"/tickets/{public_ticket}/replies", json={"body": "On it!"})
    assert public_reply.json()["visibility"] == "public"
    told = agent.post(
        f"/tickets/{public_ticket}/replies", json={"body": "DM us", "visibility": "private"}
    )
    assert told.json()["visibility"] == "private"


def test_messages_show_when_their_author_edited_or_removed_them(
    api: Api, agent: httpx.Client
) -> None:
    from socialdesk.store.models import Message

    account = make_account(api.db)
    ingest(api.db, post(account, "c1", "first words", author="sam"))
    ingest(api.db, post(account, "c2", "second words", author="sam", minutes=1, reply_to="c1"))
    with api.db.write() as s:
        edited = s.scalar(select(Message).where(Message.platform_message_id == "c1"))
        removed = s.scalar(select(Message).where(Message.platform_message_id == "c2"))
        assert edited is not None and removed is not None
        edited.meta = {"edited_at": "2026-11-23T10:00:00+00:00", "edits": [{"body": "x"}]}
        removed.meta = {"removed_at": "2026-11-23T11:00:00+00:00"}
        ticket_id = edited.ticket_id
    messages = {m["body"]: m for m in agent.get(f"/tickets/{ticket_id}").json()["messages"]}
    assert messages["first words"]["edited_at"].startswith("2026-11-23T10:00:00")
    assert messages["first words"]["removed_at"] is None
    assert messages["second words"]["removed_at"].startswith("2026-11-23T11:00:00")
    assert messages["second words"]["edited_at"] is None


def test_a_reply_can_go_by_e_mail_from_any_ticket(api: Api, agent: httpx.Client) -> None:
    from socialdesk.domain.enums import Platform
    from socialdesk.store.models import Contact, Message, Ticket

    account = make_account(api.db)
    ingest(api.db, post(account, "tw9", "@Acme my parcel is late", author="ann"))
    with api.db.write() as s:
        ticket = s.scalars(select(Ticket)).one()
        ticket_id = ticket.id
        contact = s.get(Contact, ticket.contact_id)
        assert contact is not None
        contact.email = "ann@example.com"
    nowhere = agent.post(f"/tickets/{ticket_id}/replies", json={"body": "Hi", "via": "email"})
    assert nowhere.status_code == 422
    assert "no active e-mail account" in nowhere.json()["error"]["reason"]
    mailbox = make_account(api.db, Platform.EMAIL, "support@acme.example")
    r = agent.post(
        f"/tickets/{ticket_id}/replies",
        json={"body": "Details by mail, Ann.", "via": "email"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["visibility"] == "private"
    with api.db.session() as s:
        sent = s.get(Message, r.json()["id"])
        assert sent is not None and sent.channel_account_id == mailbox
    bogus = agent.post(f"/tickets/{ticket_id}/replies", json={"body": "x", "via": "pigeon"})
    assert bogus.status_code == 422
