"""Builds one connector per network from settings; the only place that knows them all."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from socialdesk.channels.accounts import service_base_url
from socialdesk.channels.base import AccountRef, Connector
from socialdesk.channels.bluesky import BlueskyConnector
from socialdesk.channels.email import EmailConnector
from socialdesk.channels.mastodon import MastodonConnector
from socialdesk.channels.meta import MetaConnector
from socialdesk.channels.webform import WebFormConnector
from socialdesk.channels.x import XConnector
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform

META_PLATFORMS = (Platform.FACEBOOK, Platform.MESSENGER, Platform.INSTAGRAM)


@dataclass
class ConnectorRegistry:
    """Connectors for accounts. Mastodon and Bluesky live on many hosts, so their
    connectors are made per base URL (``accounts.service_base_url``)."""

    settings: Settings
    transport: httpx.AsyncBaseTransport | None = None
    # Stores tokens a connector obtained on its own (a Bluesky session, a refreshed
    # X token) in the account's encrypted secrets; ``actions.admin.secrets_saver``.
    save_secrets: Callable[[int, dict[str, str]], None] | None = None
    # Reads an account's secrets as stored now (``actions.admin.secrets_loader``).
    load_secrets: Callable[[int], Mapping[str, str]] | None = None
    _by_key: dict[str, Any] = field(default_factory=dict)

    def for_account(self, account: AccountRef) -> Connector | None:
        platform = account.platform
        if platform == Platform.X:
            return self._get(
                "x",
                lambda: XConnector(
                    self.settings.x_consumer_secret,
                    base_url=self.settings.x_api_base_url,
                    transport=self.transport,
                    poll_overlap_seconds=self.settings.x_poll_overlap_seconds,
                    app_id=self.settings.x_app_id,
                    on_tokens=self.save_secrets,
                    load_secrets=self.load_secrets,
                ),
            )
        if platform in META_PLATFORMS:
            return self._get(
                "meta",
                lambda: MetaConnector(
                    self.settings.meta_app_secret,
                    self.settings.meta_verify_token,
                    base_url=self.settings.meta_graph_base_url,
                    transport=self.transport,
                ),
            )
        if platform == Platform.EMAIL:
            return self._get("email", EmailConnector)
        if platform == Platform.WEB:
            return self._get("web", WebFormConnector)
        base_url = service_base_url(
            platform,
            account.handle,
            account.settings.get("base_url"),
            self.settings.bluesky_base_url,
        )
        if platform == Platform.MASTODON and base_url:
            return self._get(
                f"mastodon:{base_url}", lambda: MastodonConnector(base_url, self.transport)
            )
        if platform == Platform.BLUESKY and base_url:
            return self._get(
                f"bluesky:{base_url}",
                lambda: BlueskyConnector(
                    base_url, self.transport, on_session=self._save_bluesky_session
                ),
            )
        return None

    def _save_bluesky_session(self, account_id: int, access_jwt: str, refresh_jwt: str) -> None:
        if self.save_secrets is not None:
            self.save_secrets(account_id, {"access_jwt": access_jwt, "refresh_jwt": refresh_jwt})

    def _get(self, key: str, make: Any) -> Any:
        if key not in self._by_key:
            self._by_key[key] = make()
        return self._by_key[key]

    async def aclose(self) -> None:
        for connector in self._by_key.values():
            await connector.aclose()
        self._by_key.clear()
