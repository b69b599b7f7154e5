"""Images on replies that wait for a lead, and through the "Send anyway" confirmation.

An agent without posting rights replies with images (API and composer): the draft
holds the uploads, the lead sees them (``GET /approvals`` with each image's
``content_url``, thumbnails on the Approvals page), approving sends them to the
Mastodon emulator with the reply (alt text as each media's ``description``), rejecting
lets them go. A public reply with personal data asks first; the no-script confirmation
page carries the chosen images (``upload_ids``) so "Send anyway" sends the same ones,
and refuses ids that are not the agent's own or were used already."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.actions.inbox import set_posting_right
from socialdesk.channels.mastodon.emulator import create_mastodon_app
from socialdesk.config import Settings
from socialdesk.domain.enums import Role
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database
from socialdesk.store.models import AuditEntry, Upload, User
from tests.delivery.helpers import PASSWORD, admin_api, eventually
from tests.delivery.reply_images import tiny_png
from tests.delivery.test_round_trips_via_api import only_ticket

__all__ = ["admin_api"]  # a pytest fixture

AGENT = "agent@example.com"


def _client(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base + "/api/v1", timeout=30)
    token = client.post("/auth/token", json={"email": email, "password": PASSWORD})
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


def _page(base: str, email: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=30)
    login = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert login
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": login[1]})
    csrf = re.search(r'data-csrf="([^"]+)"', client.get("/inbox").text)
    assert csrf
    return client, csrf[1]


def _upload(api: httpx.Client, data: bytes, name: str, alt: str | None = None) -> Any:
    fields = {"alt_text": alt} if alt is not None else None
    response = api.post("/uploads", files={"file": (name, data, "image/png")}, data=fields)
    assert response.status_code == 201, response.text
    return response.json()


def _settled(api: httpx.Client, ticket_id: int, count: int) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        detail: dict[str, Any] = api.get(f"/tickets/{ticket_id}").json()
        outbound = [m for m in detail["messages"] if m["direction"] == "outbound"]
        if len(outbound) >= count and outbound[-1]["delivery_state"] in ("sent", "failed"):
            return outbound[-1]
        return None

    found: dict[str, Any] = eventually(probe)
    return found


@pytest.fixture
def desk(
    admin_api: Callable[[Settings], Any], db: Database, tmp_path: Path
) -> Iterator[tuple[str, httpx.Client, httpx.Client, httpx.Client, int]]:
    """A Mastodon ticket; ``(base, admin api, agent api, instance, ticket id)`` where the
    agent may not post on the account (replies wait for approval)."""
    with serve_app(create_mastodon_app()) as url, httpx.Client(base_url=url) as instance:
        brand = instance.get(
            "/api/v1/accounts/verify_credentials", headers={"Authorization": "Bearer brand-token"}
        ).json()
        base, api = admin_api(Settings(attachment_folder=tmp_path))
        created = api.post(
            "/channel-accounts",
            json={
                "platform": "mastodon",
                "handle": f"{brand['username']}@mastodon.example",
                "external_id": brand["id"],
                "secrets": {"access_token": "brand-token"},
                "settings": {"base_url": url, "poll_interval_seconds": 0.2},
            },
        )
        assert created.status_code == 201, created.text
        with db.write() as s:
            agent = create_user(s, AGENT, PASSWORD, Role.AGENT, workspace=ensure_workspace(s))
            admin = s.scalar(select(User).where(User.email == "admin@example.com"))
            assert admin is not None
            set_posting_right(s, admin, agent, created.json()["id"], False)
        instance.post(
            "/_emulator/customer/mention", json={"username": "ana", "text": "which cable?"}
        )
        ticket = only_ticket(api, "mastodon")
        yield base, api, _client(base, AGENT), instance, ticket["id"]


def test_a_draft_keeps_its_images_and_approving_sends_them_with_alt_text(
    desk: tuple[str, httpx.Client, httpx.Client, httpx.Client, int], db: Database
) -> None:
    base, lead, agent, instance, ticket_id = desk
    first, second = tiny_png(10), tiny_png(250)
    ids = [
        _upload(agent, first, "plug.png", "The plug, grey, three pins")["id"],
        _upload(agent, second, "cable.png")["id"],
    ]
    drafted = agent.post(
        f"/tickets/{ticket_id}/replies", json={"body": "This one, Ana.", "attachment_ids": ids}
    )
    assert drafted.status_code == 202, drafted.text
    draft_id = drafted.json()["id"]
    # Held by the draft: no other reply can take them meanwhile.
    again = agent.post(
        f"/tickets/{ticket_id}/replies", json={"body": "Again.", "attachment_ids": ids[:1]}
    )
    assert again.status_code == 422 and "waits with a reply" in again.json()["error"]["reason"]

    [pending] = lead.get("/approvals").json()
    assert pending["id"] == draft_id
    images = pending["attachments"]
    assert [i["upload_id"] for i in images] == ids
    assert [i["alt_text"] for i in images] == ["The plug, grey, three pins", None]
    shown = lead.get(images[0]["content_url"].removeprefix("/api/v1"))
    assert shown.status_code == 200 and shown.content == first
    assert shown.headers["content-type"] == "image/png"
    # The approval page shows them as thumbnails with their description.
    page, _csrf = _page(base, "admin@example.com")
    queue = page.get("/approvals").text
    assert f'src="/uploads/{ids[0]}/content" alt="The plug, grey, three pins"' in queue
    assert page.get(f"/uploads/{ids[1]}/content").content == second

    approved = lead.post(f"/approvals/{draft_id}/approve", json={})
    assert approved.status_code == 200, approved.text
    assert [a["alt_text"] for a in approved.json()["attachments"]] == [
        "The plug, grey, three pins",
        None,
    ]
    answer = _settled(lead, ticket_id, 1)
    assert answer["delivery_state"] == "sent", answer
    sent = instance.get("/_emulator/sent").json()
    media = [s for s in sent if s["endpoint"] == "POST /api/v2/media"]
    [status] = [s for s in sent if s["endpoint"] == "POST /api/v1/statuses"]
    assert [m["size"] for m in media] == [len(first), len(second)]
    assert [m["media"]["description"] for m in media] == ["The plug, grey, three pins", None]
    assert status["params"]["media_ids"] == [m["media"]["id"] for m in media]
    with db.session() as s:
        held = list(s.scalars(select(Upload).where(Upload.id.in_(ids))))
        assert {u.message_id for u in held} == {answer["id"]}
        assert {u.draft_id for u in held} == {None}
    # Sent: the upload is no longer the lead's to look at.
    assert lead.get(f"/uploads/{ids[0]}/content").status_code == 404


def test_rejecting_a_draft_lets_its_images_go(
    desk: tuple[str, httpx.Client, httpx.Client, httpx.Client, int], db: Database
) -> None:
    _base, lead, agent, _instance, ticket_id = desk
    upload_id = _upload(agent, tiny_png(), "plug.png")["id"]
    drafted = agent.post(
        f"/tickets/{ticket_id}/replies", json={"body": "Here.", "attachment_ids": [upload_id]}
    )
    assert drafted.status_code == 202, drafted.text
    rejected = lead.post(f"/approvals/{drafted.json()['id']}/reject", json={"note": "No photo"})
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    with db.session() as s:
        upload = s.get(Upload, upload_id)
        assert upload is not None and (upload.draft_id, upload.message_id) == (None, None)
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "approval.rejected"))
        assert entry is not None and entry.data["released_upload_ids"] == [upload_id]
    # Unused again: the agent may send it on another reply (which waits again).
    redrafted = agent.post(
        f"/tickets/{ticket_id}/replies", json={"body": "Better.", "attachment_ids": [upload_id]}
    )
    assert redrafted.status_code == 202, redrafted.text
    assert lead.get(f"/uploads/{upload_id}/content").status_code == 200


def test_the_composer_drafts_with_images_and_the_approval_form_sends_them(
    desk: tuple[str, httpx.Client, httpx.Client, httpx.Client, int],
) -> None:
    base, lead, _agent, instance, ticket_id = desk
    page, csrf = _page(base, AGENT)
    image = tiny_png(77)
    posted = page.post(
        f"/tickets/{ticket_id}/reply",
        data={"csrf_token": csrf, "body": "This one.", "kind": "public", "image_alts": "A plug"},
        files=[("images", ("plug.png", image, "image/png"))],
    )
    assert posted.status_code == 303, posted.text
    # The ticket shows the draft with its image while it waits.
    assert "With 1 image: plug.png (A plug)" in page.get(f"/tickets/{ticket_id}").text
    [pending] = lead.get("/approvals").json()
    assert [(i["name"], i["alt_text"]) for i in pending["attachments"]] == [("plug.png", "A plug")]

    review, review_csrf = _page(base, "admin@example.com")
    queue = review.get("/approvals").text
    assert f'src="/uploads/{pending["attachments"][0]["upload_id"]}/content"' in queue
    approved = review.post(
        f"/approvals/{pending['id']}",
        data={"csrf_token": review_csrf, "decision": "approve", "body": "This one, Ana."},
    )
    assert approved.status_code == 303, approved.text
    answer = _settled(lead, ticket_id, 1)
    assert answer["delivery_state"] == "sent" and answer["body"] == "This one, Ana."
    sent = instance.get("/_emulator/sent").json()
    [media] = [s for s in sent if s["endpoint"] == "POST /api/v2/media"]
    assert (media["size"], media["media"]["description"]) == (len(image), "A plug")


def test_send_anyway_on_the_confirmation_page_sends_the_same_images(
    desk: tuple[str, httpx.Client, httpx.Client, httpx.Client, int], db: Database
) -> None:
    base, lead, agent, instance, ticket_id = desk
    page, csrf = _page(base, "admin@example.com")
    image = tiny_png(33)
    body = "Write to help@example.org about it."
    asked = page.post(
        f"/tickets/{ticket_id}/reply",
        data={"csrf_token": csrf, "body": body, "kind": "public", "image_alts": "A receipt"},
        files=[("images", ("receipt.png", image, "image/png"))],
    )
    # The no-script confirmation page, carrying the kept upload.
    assert asked.status_code == 409, asked.text
    carried = re.search(r'name="upload_ids" value="([0-9,]+)"', asked.text)
    assert carried, asked.text
    upload_id = int(carried[1])
    with db.session() as s:
        kept = s.get(Upload, upload_id)
        assert kept is not None and (kept.name, kept.alt_text) == ("receipt.png", "A receipt")
        assert kept.message_id is None
    form = {"csrf_token": csrf, "body": body, "kind": "public", "confirm": "1"}

    # Ids the agent does not own, or used already, are refused: the action's checks.
    foreign = _upload(agent, tiny_png(1), "theirs.png")["id"]
    refused = page.post(f"/tickets/{ticket_id}/reply", data=form | {"upload_ids": str(foreign)})
    assert refused.status_code == 422 and "not found among your uploads" in refused.text
    bad = page.post(f"/tickets/{ticket_id}/reply", data=form | {"upload_ids": "1,x"})
    assert bad.status_code == 422

    sent_anyway = page.post(f"/tickets/{ticket_id}/reply", data=form | {"upload_ids": carried[1]})
    assert sent_anyway.status_code == 303, sent_anyway.text
    answer = _settled(lead, ticket_id, 1)
    assert answer["delivery_state"] == "sent", answer
    assert [(a["name"], a["alt_text"]) for a in answer["attachments"]] == [
        ("receipt.png", "A receipt")
    ]
    sent = instance.get("/_emulator/sent").json()
    [media] = [s for s in sent if s["endpoint"] == "POST /api/v2/media"]
    assert (media["size"], media["media"]["description"]) == (len(image), "A receipt")
    # Once sent, the same ids cannot go out again.
    reused = page.post(
        f"/tickets/{ticket_id}/reply",
        data=form | {"body": "More.", "upload_ids": carried[1]},
    )
    assert reused.status_code == 422 and "another reply" in reused.text


def test_the_script_composer_confirms_without_storing_the_images_twice(
    desk: tuple[str, httpx.Client, httpx.Client, httpx.Client, int], db: Database
) -> None:
    base, lead, _agent, instance, ticket_id = desk
    page, csrf = _page(base, "admin@example.com")
    image = tiny_png(44)
    body = "Call us on +1 415 555 0100 about it."
    htmx = {"HX-Request": "true"}
    form = {"csrf_token": csrf, "body": body, "kind": "public"}
    files = [("images", ("bill.png", image, "image/png"))]
    asked = page.post(f"/tickets/{ticket_id}/reply", data=form, files=files, headers=htmx)
    assert asked.status_code == 200 and asked.headers["HX-Retarget"] == "#reply-confirm"
    carried = re.search(r'name="upload_ids" value="([0-9,]+)"', asked.text)
    assert carried and "The image you chose goes with it" in asked.text
    # The composer's form still holds the file and sends it again with the answer.
    confirmed = page.post(
        f"/tickets/{ticket_id}/reply",
        data=form | {"confirm": "1", "upload_ids": carried[1]},
        files=files,
        headers=htmx,
    )
    assert confirmed.status_code == 200, confirmed.text
    with db.session() as s:
        assert [u.id for u in s.scalars(select(Upload))] == [int(carried[1])]
    answer = _settled(lead, ticket_id, 1)
    assert answer["delivery_state"] == "sent" and len(answer["attachments"]) == 1
    sent = instance.get("/_emulator/sent").json()
    assert len([s for s in sent if s["endpoint"] == "POST /api/v2/media"]) == 1


def test_only_the_uploader_and_reviewers_see_a_held_image(
    desk: tuple[str, httpx.Client, httpx.Client, httpx.Client, int], db: Database
) -> None:
    base, lead, agent, _instance, ticket_id = desk
    upload_id = _upload(agent, tiny_png(), "plug.png")["id"]
    with db.write() as s:
        create_user(s, "other@example.com", PASSWORD, Role.AGENT, workspace=ensure_workspace(s))
    other = _client(base, "other@example.com")
    # Not held by a draft yet: only its uploader.
    assert agent.get(f"/uploads/{upload_id}/content").status_code == 200
    assert lead.get(f"/uploads/{upload_id}/content").status_code == 404
    drafted = agent.post(
        f"/tickets/{ticket_id}/replies", json={"body": "Here.", "attachment_ids": [upload_id]}
    )
    assert drafted.status_code == 202, drafted.text
    assert lead.get(f"/uploads/{upload_id}/content").status_code == 200
    assert other.get(f"/uploads/{upload_id}/content").status_code == 404
    other_page, _ = _page(base, "other@example.com")
    assert other_page.get(f"/uploads/{upload_id}/content").status_code == 404
