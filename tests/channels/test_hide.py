"""Hiding a customer's public comment: the X and Meta connectors against their emulators
over real HTTP on loopback, with the networks' rules (X: only replies in conversations
the brand's tweet started; Meta: only comments on the token's own page / IG account)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from socialdesk.actions.moderation import why_not_hideable
from socialdesk.channels.base import AccountRef, SendError, SendFailure
from socialdesk.channels.meta.connector import MetaConnector
from socialdesk.channels.meta.emulator import create_meta_emulator
from socialdesk.channels.x.connector import XConnector
from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.domain.enums import Platform
from socialdesk.emulators.server import serve_app

X_SECRET = "x_consumer_secret_for_hide_tests"
META_SECRET = "meta_app_secret_for_hide_tests"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- X ---------------------------------------------------------------------------------


@pytest.fixture
def x_emulator() -> Iterator[tuple[str, httpx.Client, AccountRef]]:
    with (
        serve_app(create_x_emulator(X_SECRET)) as url,
        httpx.Client(base_url=url) as client,
    ):
        brand = client.post("/_emulator/users", json={"username": "AcmeHelp"}).json()
        token = client.post("/_emulator/tokens", json={"user_id": brand["id"]}).json()
        account = AccountRef(
            id=1,
            platform=Platform.X,
            external_id=brand["id"],
            handle="AcmeHelp",
            secrets={"access_token": token["access_token"]},
        )
        yield url, client, account


def _brand_tweet(client: httpx.Client, account: AccountRef, text: str) -> str:
    """The brand starts a conversation (an announcement) with its own token."""
    response = client.post(
        "/2/tweets",
        json={"text": text},
        headers={"Authorization": f"Bearer {account.secrets['access_token']}"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def _customer_tweet(client: httpx.Client, text: str, parent: str | None = None) -> str:
    spec: dict[str, Any] = {"customer": {"username": "spammer"}, "text": text}
    if parent:
        spec["in_reply_to_tweet_id"] = parent
    response = client.post("/_emulator/customer/mention", json=spec)
    assert response.status_code == 200, response.text
    return str(response.json()["tweet"]["id_str"])


@pytest.mark.anyio
async def test_x_hides_and_unhides_a_reply_in_the_brands_conversation(
    x_emulator: tuple[str, httpx.Client, AccountRef],
) -> None:
    url, client, account = x_emulator
    root = _brand_tweet(client, account, "Our spring sale starts today")
    reply = _customer_tweet(client, "buy followers at spam.example", parent=root)
    async with XConnector(X_SECRET, base_url=url) as connector:
        assert await connector.set_hidden(account, reply, True) is True
        assert client.get(f"/_emulator/tweets/{reply}").json()["hidden"] is True
        sent = [s for s in client.get("/_emulator/sent").json() if "hidden" in s["endpoint"]]
        assert sent[-1]["endpoint"] == "PUT /2/tweets/:id/hidden"
        assert sent[-1]["body"] == {"hidden": True}
        assert sent[-1]["path"] == f"/2/tweets/{reply}/hidden"
        # Rate-limit headers are recorded per bucket, as for sends.
        state = connector.rate_limit(account, "PUT /2/tweets/:id/hidden")
        assert state.limit == 50 and state.remaining == 49

        assert await connector.set_hidden(account, reply, False) is False
        assert client.get(f"/_emulator/tweets/{reply}").json()["hidden"] is False


@pytest.mark.anyio
async def test_x_refuses_outside_the_brands_conversation(
    x_emulator: tuple[str, httpx.Client, AccountRef],
) -> None:
    url, client, account = x_emulator
    mention = _customer_tweet(client, "you are the worst")  # the customer started it
    follow_up = _customer_tweet(client, "really the worst", parent=mention)
    async with XConnector(X_SECRET, base_url=url) as connector:
        for tweet_id in (mention, follow_up):
            with pytest.raises(SendError) as refused:
                await connector.set_hidden(account, tweet_id, True)
            assert refused.value.failure is SendFailure.PERMANENT
            assert refused.value.code == "403"
            assert refused.value.reason  # the network's own words reach the agent
            assert client.get(f"/_emulator/tweets/{tweet_id}").json()["hidden"] is False
        with pytest.raises(SendError) as unknown:
            await connector.set_hidden(account, "1999999999999999999", True)
        assert unknown.value.code == "404"
    assert not [s for s in client.get("/_emulator/sent").json() if "hidden" in s["endpoint"]]


@pytest.mark.anyio
async def test_x_expired_token_asks_for_reauthorization(
    x_emulator: tuple[str, httpx.Client, AccountRef],
) -> None:
    url, client, account = x_emulator
    root = _brand_tweet(client, account, "Ask us anything")
    reply = _customer_tweet(client, "spam spam", parent=root)
    client.post("/_emulator/tokens/expire", json={"user_id": account.external_id})
    async with XConnector(X_SECRET, base_url=url) as connector:
        with pytest.raises(SendError) as refused:
            await connector.set_hidden(account, reply, True)
    assert refused.value.failure is SendFailure.AUTH_REVOKED
    assert client.get(f"/_emulator/tweets/{reply}").json()["hidden"] is False


# -- Meta ------------------------------------------------------------------------------


@pytest.fixture
def meta_emulator() -> Iterator[tuple[str, httpx.Client, AccountRef, AccountRef]]:
    with (
        serve_app(create_meta_emulator(META_SECRET)) as url,
        httpx.Client(base_url=url) as client,
    ):
        refs = []
        for kind, platform, name in (
            ("page", Platform.FACEBOOK, "Acme"),
            ("instagram", Platform.INSTAGRAM, "acme_ig"),
        ):
            account = client.post(
                "/_emulator/accounts", json={"kind": kind, "name": name, "username": name}
            ).json()
            token = client.post("/_emulator/tokens", json={"account_id": account["id"]}).json()
            refs.append(
                AccountRef(
                    id=len(refs) + 1,
                    platform=platform,
                    external_id=account["id"],
                    handle=name,
                    secrets={"access_token": token["access_token"]},
                )
            )
        yield url, client, refs[0], refs[1]


@pytest.mark.anyio
async def test_facebook_and_instagram_comments_hide_and_unhide(
    meta_emulator: tuple[str, httpx.Client, AccountRef, AccountRef],
) -> None:
    url, client, page, ig = meta_emulator
    fb_comment = client.post(
        "/_emulator/customer/page_comment", json={"message": "scam link", "wait": False}
    ).json()["comment_id"]
    ig_comment = client.post(
        "/_emulator/customer/ig_comment", json={"text": "scam link", "wait": False}
    ).json()["comment_id"]
    async with MetaConnector(META_SECRET, base_url=url) as connector:
        assert await connector.set_hidden(page, fb_comment, True, Platform.FACEBOOK) is True
        assert await connector.set_hidden(ig, ig_comment, True, Platform.INSTAGRAM) is True
        assert client.get(f"/_emulator/comments/{fb_comment}").json()["hidden"] is True
        assert client.get(f"/_emulator/comments/{ig_comment}").json()["hidden"] is True
        sent = [s for s in client.get("/_emulator/sent").json() if s["endpoint"].endswith("id}")]
        assert [s["body"] for s in sent] == [{"is_hidden": "true"}, {"hide": "true"}]
        assert sent[0]["path"].endswith(f"/{fb_comment}")

        await connector.set_hidden(page, fb_comment, False, Platform.FACEBOOK)
        assert client.get(f"/_emulator/comments/{fb_comment}").json()["hidden"] is False


@pytest.mark.anyio
async def test_meta_refuses_a_comment_of_another_account(
    meta_emulator: tuple[str, httpx.Client, AccountRef, AccountRef],
) -> None:
    url, client, page, _ig = meta_emulator
    ig_comment = client.post(
        "/_emulator/customer/ig_comment", json={"text": "hi", "wait": False}
    ).json()["comment_id"]
    async with MetaConnector(META_SECRET, base_url=url) as connector:
        with pytest.raises(SendError) as refused:
            await connector.set_hidden(page, ig_comment, True, Platform.FACEBOOK)
        assert refused.value.failure is SendFailure.PERMANENT
        assert refused.value.code == "100/33"
        with pytest.raises(SendError):
            await connector.set_hidden(page, "123_456", True, Platform.FACEBOOK)
    assert client.get(f"/_emulator/comments/{ig_comment}").json()["hidden"] is False


@pytest.mark.anyio
async def test_meta_invalid_token_asks_for_reauthorization(
    meta_emulator: tuple[str, httpx.Client, AccountRef, AccountRef],
) -> None:
    url, client, page, _ = meta_emulator
    comment = client.post(
        "/_emulator/customer/page_comment", json={"message": "spam", "wait": False}
    ).json()["comment_id"]
    client.post("/_emulator/tokens/invalidate", json={"account_id": page.external_id})
    async with MetaConnector(META_SECRET, base_url=url) as connector:
        with pytest.raises(SendError) as refused:
            await connector.set_hidden(page, comment, True, Platform.FACEBOOK)
    assert refused.value.failure is SendFailure.AUTH_REVOKED
    assert refused.value.code == "190/460"
    assert client.get(f"/_emulator/comments/{comment}").json()["hidden"] is False


# -- which messages can be hidden ------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "visibility", "platform", "pid", "reason"),
    [
        ("inbound", "public", "x", "1", None),
        ("inbound", "public", "facebook", "1_2", None),
        ("inbound", "public", "instagram", "3", None),
        ("outbound", "public", "x", "1", "only a customer's message"),
        ("note", "private", None, None, "only a customer's message"),
        ("inbound", "private", "x", "1", "private message"),
        ("inbound", "private", "messenger", "m_1", "private message"),
        ("inbound", "public", "mastodon", "1", "Mastodon has no API"),
        ("inbound", "public", "bluesky", "at://x", None),  # the thread's root decides later
        ("inbound", "public", "email", "<a@b>", "e-mail is private"),
        ("inbound", "public", "web", "w1", "web-form"),
        ("inbound", "public", None, "1", "cannot hide"),
        ("inbound", "public", "x", None, "no id on the network"),
    ],
)
def test_which_messages_can_be_hidden(
    direction: str, visibility: str, platform: str | None, pid: str | None, reason: str | None
) -> None:
    got = why_not_hideable(direction, visibility, platform, pid)
    if reason is None:
        assert got is None
    else:
        assert got is not None and reason in got
