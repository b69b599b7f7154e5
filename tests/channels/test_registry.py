"""The registry builds connectors from settings: the X polling overlap, instance URLs."""

from __future__ import annotations

import asyncio

from socialdesk.channels.base import AccountRef
from socialdesk.channels.mastodon.connector import MastodonConnector
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.channels.x.connector import XConnector
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform


def _ref(platform: Platform, handle: str, **settings: str) -> AccountRef:
    return AccountRef(id=1, platform=platform, external_id="1", handle=handle, settings=settings)


def test_x_mention_polling_overlaps_by_default_and_can_be_tuned() -> None:
    default = ConnectorRegistry(Settings()).for_account(_ref(Platform.X, "AcmeSupport"))
    tuned = ConnectorRegistry(Settings(x_poll_overlap_seconds=5)).for_account(
        _ref(Platform.X, "AcmeSupport")
    )
    assert isinstance(default, XConnector) and default.poll_overlap_seconds == 60
    assert isinstance(tuned, XConnector) and tuned.poll_overlap_seconds == 5


def test_one_mastodon_connector_per_instance() -> None:
    registry = ConnectorRegistry(Settings())
    social = registry.for_account(_ref(Platform.MASTODON, "support@mastodon.social"))
    again = registry.for_account(_ref(Platform.MASTODON, "sales@mastodon.social"))
    other = registry.for_account(
        _ref(Platform.MASTODON, "support", base_url="https://fosstodon.org/")
    )
    assert isinstance(social, MastodonConnector) and social is again
    assert isinstance(other, MastodonConnector) and other is not social
    assert registry.for_account(_ref(Platform.MASTODON, "support")) is None
    asyncio.run(registry.aclose())


def test_x_connectors_know_our_app_id_to_spot_echoed_dms() -> None:
    settings = Settings(x_app_id="268278")
    x = ConnectorRegistry(settings).for_account(_ref(Platform.X, "AcmeSupport"))
    assert isinstance(x, XConnector) and x.app_id == "268278"
