"""``identify``: each connector asks its network (an emulator over real HTTP or real
IMAP/SMTP) whom the account's credentials belong to, and a refusal is classified as a
revoked credential, as for sends. The desk-level check is in
tests/delivery/test_credential_check.py."""

from __future__ import annotations

import asyncio

import pytest

from socialdesk.channels.base import AccountRef, Identity, SendError, SendFailure
from socialdesk.channels.bluesky.connector import BlueskyConnector
from socialdesk.channels.bluesky.emulator import create_bluesky_app
from socialdesk.channels.email.connector import EmailConnector
from socialdesk.channels.email.emulator import MailEmulator
from socialdesk.channels.mastodon.connector import MastodonConnector
from socialdesk.channels.mastodon.emulator import create_mastodon_app
from socialdesk.domain.enums import Platform
from socialdesk.loopback import serve_app


def test_mastodon_verify_credentials() -> None:
    app = create_mastodon_app(access_token="brand-token")
    brand = app.state.emulator.brand
    with serve_app(app) as url:

        async def who(token: str) -> Identity:
            account = AccountRef(
                7, Platform.MASTODON, brand.id, brand.username, {"access_token": token}
            )
            async with MastodonConnector(url) as connector:
                return await connector.identify(account)

        identity = asyncio.run(who("brand-token"))
        assert (identity.external_id, identity.handle) == (brand.id, brand.username)
        with pytest.raises(SendError) as refused:
            asyncio.run(who("stolen"))
    assert refused.value.failure is SendFailure.AUTH_REVOKED


def test_bluesky_session_names_the_did_and_handle() -> None:
    app = create_bluesky_app(brand_handle="acme.bsky.social", app_password="abcd-efgh-ijkl-mnop")
    with serve_app(app) as url:

        async def who(password: str) -> Identity:
            account = AccountRef(
                12, Platform.BLUESKY, "", "acme.bsky.social", {"app_password": password}
            )
            async with BlueskyConnector(url) as connector:
                return await connector.identify(account)

        identity = asyncio.run(who("abcd-efgh-ijkl-mnop"))
        assert identity.handle == "acme.bsky.social"
        assert identity.external_id.startswith("did:")
        with pytest.raises(SendError) as refused:
            asyncio.run(who("wrong-pass-word-here"))
    assert refused.value.failure is SendFailure.AUTH_REVOKED


def test_email_logs_in_to_imap_and_smtp() -> None:
    with MailEmulator() as mail:

        def account(**overrides: str) -> AccountRef:
            return AccountRef(
                3,
                Platform.EMAIL,
                mail.address,
                "Acme Support",
                {**mail.account_secrets(), **overrides},
                mail.account_settings(),
            )

        identity = asyncio.run(EmailConnector().identify(account()))
        assert identity.external_id == mail.address
        with pytest.raises(SendError) as refused:
            asyncio.run(EmailConnector().identify(account(password="not-the-password")))
    assert refused.value.failure is SendFailure.AUTH_REVOKED
