"""Builds one connector per account from its network's descriptor
(``channels/networks.py``, the only list of networks)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from socialdesk.channels.base import AccountRef, Connector
from socialdesk.channels.descriptor import Absent
from socialdesk.channels.networks import find_descriptor
from socialdesk.config import Settings


@dataclass
class ConnectorRegistry:
    """Connectors for accounts, each made by its network's descriptor and shared under
    the key the descriptor names (Mastodon and Bluesky: one per host)."""

    settings: Settings
    transport: httpx.AsyncBaseTransport | None = None
    # Stores tokens a connector obtained on its own (a Bluesky session, a refreshed
    # X token) in the account's encrypted secrets; ``actions.admin.secrets_saver``.
    save_secrets: Callable[[int, dict[str, str]], None] | None = None
    # Reads an account's secrets as stored now (``actions.admin.secrets_loader``).
    load_secrets: Callable[[int], Mapping[str, str]] | None = None
    _by_key: dict[str, Any] = field(default_factory=dict)

    def for_account(self, account: AccountRef) -> Connector | None:
        descriptor = find_descriptor(account.platform)
        if descriptor is None or isinstance(descriptor.connector, Absent):
            return None
        return descriptor.connector(self, account)

    def shared(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._by_key:
            self._by_key[key] = make()
        return self._by_key[key]

    async def aclose(self) -> None:
        for connector in self._by_key.values():
            await connector.aclose()
        self._by_key.clear()
