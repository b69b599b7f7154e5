"""Emulators of X, Mastodon and Bluesky on loopback, accounts connected to them, and
posts seeded through their ``POST /_emulator/history``."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.channels.bluesky.emulator import create_bluesky_app
from socialdesk.channels.mastodon.emulator import create_mastodon_app
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform
from socialdesk.loopback import serve_app
from socialdesk.store.db import Database

_ids = itertools.count(1)


@dataclass
class Networks:
    x: httpx.Client
    mastodon: httpx.Client
    bluesky: httpx.Client
    workspace_id: int
    accounts: dict[str, int]

    def registry(self) -> ConnectorRegistry:
        return ConnectorRegistry(
            Settings(x_consumer_secret="x-secret", x_api_base_url=str(self.x.base_url))
        )

    def post(self, network: str, text: str, author: str = "ana") -> str:
        """A post by ``author`` on ``network``; its id there."""
        n = next(_ids)
        if network == "x":
            tweet_id = str(1_800_000_000_000_000_000 + n)
            body = {"tweets": [{"id": tweet_id, "author": {"username": author}, "text": text}]}
            assert self.x.post("/_emulator/history", json=body).json()["imported"] == 1
            return tweet_id
        if network == "mastodon":
            status_id = str(110_000_000_000_000 + n)
            body = {"statuses": [{"id": status_id, "username": author, "text": text}]}
            assert self.mastodon.post("/_emulator/history", json=body).status_code == 200
            return status_id
        did = f"did:plc:{author}{n:04d}"
        uri = f"at://{did}/app.bsky.feed.post/3k{n:011d}"
        body = {"posts": [{"uri": uri, "cid": f"bafy{n}", "handle": f"{author}.bsky.social",
                           "text": text}]}  # fmt: skip
        assert self.bluesky.post("/_emulator/history", json=body).status_code == 200
        return uri


@contextmanager
def networks(db: Database) -> Iterator[Networks]:
    x_app = create_x_emulator("x-secret")
    mastodon_app = create_mastodon_app(access_token="brand-token")
    bluesky_app = create_bluesky_app()
    with (
        serve_app(x_app) as x_url,
        serve_app(mastodon_app) as mastodon_url,
        serve_app(bluesky_app) as bluesky_url,
        httpx.Client(base_url=x_url) as x,
        httpx.Client(base_url=mastodon_url) as mastodon,
        httpx.Client(base_url=bluesky_url) as bluesky,
    ):
        brand = x.post("/_emulator/users", json={"username": "acmeair"}).json()
        token = x.post("/_emulator/tokens", json={"user_id": brand["id"]}).json()
        m_brand = mastodon_app.state.emulator.brand
        b_brand = bluesky_app.state.emulator.brand
        with db.write() as s:
            ws = ensure_workspace(s)
            accounts = {
                "x": create_channel_account(
                    s, None, workspace_id=ws.id, platform=Platform.X, handle="acmeair",
                    external_id=brand["id"], secrets={"access_token": token["access_token"]},
                ).id,
                "mastodon": create_channel_account(
                    s, None, workspace_id=ws.id, platform=Platform.MASTODON,
                    handle=f"{m_brand.username}@mastodon.test", external_id=m_brand.id,
                    secrets={"access_token": "brand-token"},
                    settings={"base_url": mastodon_url},
                ).id,
                "bluesky": create_channel_account(
                    s, None, workspace_id=ws.id, platform=Platform.BLUESKY,
                    handle=b_brand.handle, external_id=b_brand.did,
                    secrets={"app_password": bluesky_app.state.emulator.app_password},
                    settings={"base_url": bluesky_url},
                ).id,
            }  # fmt: skip
            workspace_id = ws.id
        yield Networks(x, mastodon, bluesky, workspace_id, accounts)
