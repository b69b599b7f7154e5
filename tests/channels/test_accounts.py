"""Where a Mastodon or Bluesky account's API lives, and which base URLs are refused."""

from __future__ import annotations

import pytest

from socialdesk.channels.accounts import base_url_problem, service_base_url
from socialdesk.domain.enums import Platform

ENTRYWAY = "https://bsky.social"


@pytest.mark.parametrize(
    ("platform", "handle", "configured", "expected"),
    [
        (Platform.MASTODON, "support@mastodon.social", None, "https://mastodon.social"),
        (Platform.MASTODON, "@support@fosstodon.org", "", "https://fosstodon.org"),
        (Platform.MASTODON, "support@mastodon.social", "http://127.0.0.1:9/", "http://127.0.0.1:9"),
        (Platform.MASTODON, "support", None, None),
        (Platform.BLUESKY, "acme.bsky.social", None, ENTRYWAY),
        (
            Platform.BLUESKY,
            "acme.example.com",
            "https://pds.example.com",
            "https://pds.example.com",
        ),
        (Platform.X, "AcmeSupport", None, None),
    ],
)
def test_service_base_url(
    platform: Platform, handle: str, configured: str | None, expected: str | None
) -> None:
    assert service_base_url(platform, handle, configured, ENTRYWAY) == expected


@pytest.mark.parametrize(
    ("platform", "handle", "configured", "problem"),
    [
        (Platform.MASTODON, "support@mastodon.social", None, None),
        (Platform.MASTODON, "support", "https://mastodon.social", None),
        (Platform.MASTODON, "support", None, "needs its instance"),
        (Platform.MASTODON, "support", "mastodon.social", "must be an http(s) URL"),
        (Platform.BLUESKY, "acme.bsky.social", None, None),
        (Platform.BLUESKY, "acme.bsky.social", 42, "must be an http(s) URL"),
        (Platform.X, "AcmeSupport", None, None),
    ],
)
def test_base_url_problem(
    platform: Platform, handle: str, configured: object, problem: str | None
) -> None:
    found = base_url_problem(platform, handle, configured)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
