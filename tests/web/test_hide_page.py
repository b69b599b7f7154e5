"""The conversation page's Hide / Unhide button: shown to writers on a customer's public
X / Facebook / Instagram message, posts with CSRF, and hides on the X emulator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.config import Settings
from socialdesk.domain.enums import Direction, Platform, Role, Visibility
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, Message, Ticket
from socialdesk.web.app import create_app
from socialdesk.web.pages import inbox as inbox_page
from socialdesk.web.pages.moderation import hideable
from tests.pipeline.helpers import ingest, post
from tests.web.test_pages import PASSWORD, sign_in

SECRET = "x_secret_for_hide_page"


@dataclass
class World:
    client: TestClient
    x: httpx.Client
    db: Database
    account_id: int
    token: str


@pytest.fixture
def world(db: Database) -> Iterator[World]:
    with (
        serve_app(create_x_emulator(SECRET)) as url,
        httpx.Client(base_url=url) as x,
    ):
        brand = x.post("/_emulator/users", json={"username": "AcmeSupport"}).json()
        token = x.post("/_emulator/tokens", json={"user_id": brand["id"]}).json()["access_token"]
        with db.write() as s:
            ws = ensure_workspace(s)
            for email, role in (
                ("agent@example.com", Role.AGENT),
                ("viewer@example.com", Role.VIEWER),
            ):
                create_user(s, email, PASSWORD, role, workspace=ws)
            account_id = create_channel_account(
                s,
                None,
                workspace_id=ws.id,
                platform=Platform.X,
                handle="AcmeSupport",
                external_id=brand["id"],
                secrets={"access_token": token},
            ).id
        inbox_page.forget_counts()
        settings = Settings(x_consumer_secret=SECRET, x_api_base_url=url)
        with TestClient(create_app(settings, db), follow_redirects=False) as client:
            yield World(client, x, db, account_id, token)


def _customer_reply_in_brand_conversation(world: World, author: str) -> str:
    """A brand tweet, a customer's reply to it on the emulator, stored as a ticket."""
    root = world.x.post(
        "/2/tweets",
        json={"text": f"Announcement for {author}"},
        headers={"Authorization": f"Bearer {world.token}"},
    ).json()["data"]["id"]
    tweet = world.x.post(
        "/_emulator/customer/mention",
        json={"customer": {"username": author}, "text": "spam", "in_reply_to_tweet_id": root},
    ).json()["tweet"]
    ingest(world.db, post(world.account_id, tweet["id_str"], "spam", author=author))
    return str(tweet["id_str"])


def _ticket_id(world: World, pid: str) -> int:
    with world.db.session() as s:
        ticket_id = s.scalar(select(Message.ticket_id).where(Message.platform_message_id == pid))
    assert ticket_id is not None
    return int(ticket_id)


def test_agent_hides_and_unhides_from_the_conversation(world: World) -> None:
    pid = _customer_reply_in_brand_conversation(world, "spam_bot")
    ingest(
        world.db,
        post(world.account_id, "dm-9", "private hello", author="spam_bot", conversation="1-2"),
    )
    ticket_id = _ticket_id(world, pid)
    csrf = sign_in(world.client, "agent@example.com")
    page = world.client.get(f"/tickets/{ticket_id}").text
    # One button: the public reply has it, the DM (private) does not.
    assert page.count('class="hide-toggle"') == 1
    assert "Hidden from the public" not in page

    message_id = int(re.findall(r'/messages/(\d+)/hide"', page)[0])
    url = f"/tickets/{ticket_id}/messages/{message_id}/hide"
    assert world.client.post(url, data={"hidden": "1"}).status_code == 403  # no CSRF token
    assert world.x.get(f"/_emulator/tweets/{pid}").json()["hidden"] is False

    done = world.client.post(
        url, data={"hidden": "1", "csrf_token": csrf}, headers={"HX-Request": "true"}
    )
    assert done.status_code == 200, done.text
    assert "Hidden from the public" in done.text and ">Unhide</button>" in done.text
    assert world.x.get(f"/_emulator/tweets/{pid}").json()["hidden"] is True

    back = world.client.post(url, data={"hidden": "0", "csrf_token": csrf})
    assert back.status_code == 303
    assert world.x.get(f"/_emulator/tweets/{pid}").json()["hidden"] is False
    assert "Hidden from the public" not in world.client.get(f"/tickets/{ticket_id}").text


def test_refusal_is_shown_and_viewers_get_no_button(world: World) -> None:
    rant = world.x.post(
        "/_emulator/customer/mention",
        json={"customer": {"username": "angry_ann"}, "text": "worst service"},
    ).json()["tweet"]["id_str"]
    ingest(world.db, post(world.account_id, rant, "worst service", author="angry_ann"))
    ticket_id = _ticket_id(world, rant)
    csrf = sign_in(world.client, "agent@example.com")
    page = world.client.get(f"/tickets/{ticket_id}").text
    message_id = int(re.findall(r'/messages/(\d+)/hide"', page)[0])
    refused = world.client.post(
        f"/tickets/{ticket_id}/messages/{message_id}/hide",
        data={"hidden": "1", "csrf_token": csrf},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 502
    assert "X refused: Only replies can be hidden" in refused.text

    world.client.post("/logout", data={"csrf_token": csrf})
    viewer_csrf = sign_in(world.client, "viewer@example.com")
    assert 'class="hide-toggle"' not in world.client.get(f"/tickets/{ticket_id}").text
    as_viewer = world.client.post(
        f"/tickets/{ticket_id}/messages/{message_id}/hide",
        data={"hidden": "1", "csrf_token": viewer_csrf},
    )
    assert as_viewer.status_code == 403


BRAND_DID = "did:plc:brand"
CUSTOMER_DID = "did:plc:customer"
BRAND_ROOT = f"at://{BRAND_DID}/app.bsky.feed.post/root1"
CUSTOMER_ROOT = f"at://{CUSTOMER_DID}/app.bsky.feed.post/root2"


@pytest.mark.parametrize(
    ("uri", "reply_to", "references", "account_did", "shown"),
    [
        # a customer's reply in the brand's own thread: Bluesky lets the brand hide it
        (f"at://{CUSTOMER_DID}/app.bsky.feed.post/r1", BRAND_ROOT, [BRAND_ROOT], BRAND_DID, True),
        # the customer's own mention starts its thread: only they could hide replies
        (CUSTOMER_ROOT, None, [], BRAND_DID, False),
        # a reply under the customer's mention
        (
            f"at://{CUSTOMER_DID}/app.bsky.feed.post/r2",
            CUSTOMER_ROOT,
            [CUSTOMER_ROOT],
            BRAND_DID,
            False,
        ),
        # thread start not stored: the button shows, and the action asks Bluesky
        (f"at://{CUSTOMER_DID}/app.bsky.feed.post/r3", BRAND_ROOT, [], BRAND_DID, True),
        # no account on the page: the button shows, the action decides
        (CUSTOMER_ROOT, None, [], None, True),
    ],
)
def test_bluesky_hide_button_only_where_the_brand_started_the_thread(
    uri: str, reply_to: str | None, references: list[str], account_did: str | None, shown: bool
) -> None:
    message = Message(
        direction=str(Direction.INBOUND),
        visibility=str(Visibility.PUBLIC),
        platform=str(Platform.BLUESKY),
        platform_message_id=uri,
        reply_to_platform_id=reply_to,
        meta={"references": references},
    )
    ticket = Ticket(platform=str(Platform.BLUESKY))
    account = (
        ChannelAccount(
            platform=str(Platform.BLUESKY), handle="acme.bsky.social", external_id=account_did
        )
        if account_did
        else None
    )
    assert hideable(message, ticket, account) is shown
