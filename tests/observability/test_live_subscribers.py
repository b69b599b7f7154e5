"""``socialdesk_live_subscribers`` follows the live bus's subscriptions (each inbox page's
``/live`` stream holds one while it is open)."""

from __future__ import annotations

import asyncio

import httpx

from socialdesk.config import Settings
from socialdesk.live import bus
from socialdesk.store.db import Database
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from tests.observability.test_endpoints import scrape, value


def test_subscriptions_are_counted_while_open(db: Database) -> None:
    settings = Settings(run_workers=False, live_relay_seconds=0)
    with serve(create_app(settings, db)) as url, httpx.Client(base_url=url, timeout=30) as ops:

        def subscribers() -> float:
            return value(scrape(ops), "socialdesk_live_subscribers")

        async def two_pages() -> tuple[float, float, float]:
            before = await asyncio.to_thread(subscribers)
            first, second = bus.subscribe(), bus.subscribe()
            during = await asyncio.to_thread(subscribers)
            bus.unsubscribe(first)
            one_left = await asyncio.to_thread(subscribers)
            bus.unsubscribe(second)
            return before, during, one_left

        before, during, one_left = asyncio.run(two_pages())
        assert (during, one_left) == (before + 2, before + 1)
        assert subscribers() == before
