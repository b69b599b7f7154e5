"""Hiding a customer's public comment end to end through the REST API: the customer
writes on the X or Meta emulator, the ticket appears in the API, the agent hides the
message, the emulator shows it hidden, and the ticket history and audit log say so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.channels.meta.emulator import create_meta_emulator
from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, Role
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database
from tests.delivery.helpers import PASSWORD, admin_api
from tests.delivery.helpers import eventually as _eventually
from tests.pipeline.helpers import ingest, make_account, post

__all__ = ["admin_api"]  # a pytest fixture

X_SECRET = "emulated_consumer_secret"
META_SECRET = "emulated_app_secret"


def _ticket_of(api: httpx.Client, platform_message_id: str) -> tuple[int, int]:
    """(ticket id, message id) of the stored customer message with this network id."""

    def probe() -> tuple[int, int] | None:
        for summary in api.get("/tickets", params={"status": "unsolved"}).json()["data"]:
            detail = api.get(f"/tickets/{summary['id']}").json()
            for message in detail["messages"]:
                if message["platform_message_id"] == platform_message_id:
                    return summary["id"], message["id"]
        return None

    found: tuple[int, int] = _eventually(probe)
    return found


def _hide(api: httpx.Client, ticket_id: int, message_id: int, hidden: bool) -> httpx.Response:
    return api.post(f"/tickets/{ticket_id}/messages/{message_id}/hide", json={"hidden": hidden})


def _event_kinds(api: httpx.Client, ticket_id: int) -> list[str]:
    return [e["kind"] for e in api.get(f"/tickets/{ticket_id}/events").json()]


def _hide_calls(emulator: httpx.Client) -> list[dict[str, Any]]:
    return [
        s
        for s in emulator.get("/_emulator/sent").json()
        if s["endpoint"] in ("PUT /2/tweets/:id/hidden", "POST /{comment-id}")
    ]


def test_x_reply_hidden_and_unhidden_via_api(
    admin_api: Callable[[Settings], Any], db: Database
) -> None:
    with (
        serve_app(create_x_emulator(X_SECRET, retry_delay_seconds=0.05)) as x_url,
        httpx.Client(base_url=x_url) as x,
    ):
        brand = x.post("/_emulator/users", json={"username": "AcmeSupport"}).json()
        token = x.post("/_emulator/tokens", json={"user_id": brand["id"]}).json()["access_token"]
        base, api = admin_api(Settings(x_consumer_secret=X_SECRET, x_api_base_url=x_url))
        created = api.post(
            "/channel-accounts",
            json={
                "platform": "x",
                "handle": "AcmeSupport",
                "external_id": brand["id"],
                "secrets": {"access_token": token},
            },
        )
        assert created.status_code == 201, created.text
        x.put("/_emulator/webhook", json={"url": base + "/hooks/x"})
        # The brand's announcement starts a conversation; a customer's spam answers it.
        announcement = x.post(
            "/2/tweets",
            json={"text": "Our spring sale starts today"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["data"]["id"]
        spam = x.post(
            "/_emulator/customer/mention",
            json={
                "customer": {"username": "spam_bot"},
                "text": "cheap followers at spam.example",
                "in_reply_to_tweet_id": announcement,
            },
        ).json()["tweet"]["id_str"]
        ticket_id, message_id = _ticket_of(api, spam)

        hidden = _hide(api, ticket_id, message_id, True)
        assert hidden.status_code == 200, hidden.text
        assert hidden.json()["id"] == message_id and hidden.json()["hidden_at"]
        assert x.get(f"/_emulator/tweets/{spam}").json()["hidden"] is True
        detail = api.get(f"/tickets/{ticket_id}").json()
        assert [m["hidden_at"] is not None for m in detail["messages"]] == [True]
        assert _event_kinds(api, ticket_id).count("message_hidden") == 1
        audit = api.get("/audit").json()
        assert audit[0]["action"] == "ticket.message_hidden"
        assert audit[0]["object_id"] == ticket_id
        assert audit[0]["data"]["message_id"] == message_id

        # Hiding a hidden comment again: a no-op success, no second call or event.
        again = _hide(api, ticket_id, message_id, True)
        assert again.status_code == 200 and again.json()["hidden_at"] == hidden.json()["hidden_at"]
        assert len(_hide_calls(x)) == 1
        assert _event_kinds(api, ticket_id).count("message_hidden") == 1

        shown = _hide(api, ticket_id, message_id, False)
        assert shown.status_code == 200 and shown.json()["hidden_at"] is None
        assert x.get(f"/_emulator/tweets/{spam}").json()["hidden"] is False
        assert "message_unhidden" in _event_kinds(api, ticket_id)
        assert api.get("/audit").json()[0]["action"] == "ticket.message_unhidden"

        # A customer's own conversation: X refuses, nothing is recorded as hidden.
        rant = x.post(
            "/_emulator/customer/mention",
            json={"customer": {"username": "angry_ann"}, "text": "worst service ever"},
        ).json()["tweet"]["id_str"]
        rant_ticket, rant_message = _ticket_of(api, rant)
        refused = _hide(api, rant_ticket, rant_message, True)
        assert refused.status_code == 502, refused.text
        assert "conversation" in refused.json()["error"]["reason"]
        assert api.get(f"/tickets/{rant_ticket}").json()["messages"][0]["hidden_at"] is None
        assert "message_hidden" not in _event_kinds(api, rant_ticket)

        # Our own reply and a note cannot be hidden; an unknown message is 404.
        note = api.post(f"/tickets/{ticket_id}/notes", json={"body": "spam, hid it"}).json()
        not_inbound = _hide(api, ticket_id, note["id"], True)
        assert not_inbound.status_code == 422
        assert "customer" in not_inbound.json()["error"]["reason"]
        assert _hide(api, ticket_id, 987654, True).status_code == 404
        assert _hide(api, 987654, message_id, True).status_code == 404

        # A viewer can read the ticket but not hide anything.
        with db.write() as s:
            create_user(
                s, "viewer@example.com", PASSWORD, Role.VIEWER, workspace=ensure_workspace(s)
            )
        viewer_token = api.post(
            "/auth/token", json={"email": "viewer@example.com", "password": PASSWORD}
        ).json()["access_token"]
        as_viewer = _hide(
            httpx.Client(
                base_url=str(api.base_url),
                headers={"Authorization": f"Bearer {viewer_token}"},
                timeout=30,
            ),
            ticket_id,
            message_id,
            True,
        )
        assert as_viewer.status_code == 403
        assert x.get(f"/_emulator/tweets/{spam}").json()["hidden"] is False


def test_facebook_and_instagram_comments_hidden_via_api(
    admin_api: Callable[[Settings], Any],
) -> None:
    with (
        serve_app(create_meta_emulator(META_SECRET, verify_token="vt")) as meta_url,
        httpx.Client(base_url=meta_url) as meta,
    ):
        settings = Settings(
            meta_app_secret=META_SECRET, meta_verify_token="vt", meta_graph_base_url=meta_url
        )
        base, api = admin_api(settings)
        page_id = ""
        for kind, platform, name in (
            ("page", "facebook", "Acme"),
            ("instagram", "instagram", "acme_ig"),
        ):
            account = meta.post(
                "/_emulator/accounts", json={"kind": kind, "name": name, "username": name}
            ).json()
            page_id = page_id or account["id"]
            token = meta.post("/_emulator/tokens", json={"account_id": account["id"]}).json()
            created = api.post(
                "/channel-accounts",
                json={
                    "platform": platform,
                    "handle": name,
                    "external_id": account["id"],
                    "secrets": {"access_token": token["access_token"]},
                },
            )
            assert created.status_code == 201, created.text
        meta.put("/_emulator/webhook", json={"url": base + "/hooks/meta"})
        fb = meta.post(
            "/_emulator/customer/page_comment",
            json={"customer": {"name": "Spam Page"}, "message": "Free iPhones at scam.example"},
        ).json()["comment_id"]
        ig = meta.post(
            "/_emulator/customer/ig_comment",
            json={"customer": {"username": "scammer"}, "text": "DM me for free followers"},
        ).json()["comment_id"]
        for comment_id in (fb, ig):
            ticket_id, message_id = _ticket_of(api, comment_id)
            hidden = _hide(api, ticket_id, message_id, True)
            assert hidden.status_code == 200, hidden.text
            assert meta.get(f"/_emulator/comments/{comment_id}").json()["hidden"] is True
            assert "message_hidden" in _event_kinds(api, ticket_id)
        assert [c["body"] for c in _hide_calls(meta)] == [{"is_hidden": "true"}, {"hide": "true"}]

        # A revoked Page token: Meta's reason comes back, the account asks for re-auth.
        meta.post("/_emulator/tokens/invalidate", json={"account_id": page_id})
        ticket_id, message_id = _ticket_of(api, fb)
        refused = _hide(api, ticket_id, message_id, False)
        assert refused.status_code == 502
        assert "access token" in refused.json()["error"]["reason"]
        assert meta.get(f"/_emulator/comments/{fb}").json()["hidden"] is True
        assert api.get(f"/tickets/{ticket_id}").json()["messages"][0]["hidden_at"] is not None
        accounts = {a["platform"]: a for a in api.get("/channel-accounts").json()}
        assert accounts["facebook"]["needs_reauthorization"] is True
        assert accounts["instagram"]["needs_reauthorization"] is False


def test_networks_without_hiding_answer_422(
    admin_api: Callable[[Settings], Any], db: Database
) -> None:
    _base, api = admin_api(Settings())
    for platform, needle in (
        (Platform.MASTODON, "Mastodon has no API"),
        (Platform.BLUESKY, "Bluesky"),
        (Platform.EMAIL, "private"),
    ):
        account = make_account(db, platform, handle=f"acme-{platform}@social.example")
        pid = f"{platform}-post-1"
        ingest(
            db,
            post(account, pid, "you are all scammers", author=f"c-{platform}", platform=platform),
        )
        ticket_id, message_id = _ticket_of(api, pid)
        refused = _hide(api, ticket_id, message_id, True)
        assert refused.status_code == 422, refused.text
        assert needle in refused.json()["error"]["reason"]
        assert "message_hidden" not in _event_kinds(api, ticket_id)
    # A private message (an X DM) has nothing public to hide.
    account = make_account(db, Platform.X, handle="acme-dm")
    ingest(db, post(account, "dm-1", "hello?", author="c-dm", conversation="1-2"))
    ticket_id, message_id = _ticket_of(api, "dm-1")
    refused = _hide(api, ticket_id, message_id, True)
    assert refused.status_code == 422
    assert "private" in refused.json()["error"]["reason"]
