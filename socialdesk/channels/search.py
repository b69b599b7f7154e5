"""What a network's search answers a listening query with (``search_posts`` on the X,
Mastodon and Bluesky connectors): the posts as messages, each with the payload it was
read from, and the cursor the next pass starts after."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from socialdesk.domain.messages import InboundMessage

# Pages one pass reads per query; the cursor keeps the rest for the next pass.
MAX_SEARCH_PAGES = 5


@dataclass(slots=True)
class FoundPost:
    message: InboundMessage
    payload: dict[str, Any]


@dataclass(slots=True)
class SearchPage:
    posts: list[FoundPost] = field(default_factory=list)
    cursor: str | None = None
