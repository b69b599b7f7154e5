"""A workspace's own topic list: the names triage labels messages with ("Cancelled
flight", "Billing") and the words that point to each. Stored in the workspace's settings
(``settings["triage_topics"]``); a workspace without one uses ``DEFAULT_TOPICS``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from socialdesk.triage.rules import DEFAULT_TOPICS

SETTINGS_KEY = "triage_topics"
MAX_TOPICS = 50
MAX_KEYWORDS = 40
MAX_NAME = 80
MAX_KEYWORD = 60

Topics = dict[str, tuple[str, ...]]


class TopicError(ValueError):
    """A topic list that cannot be used, with the reason in words."""


def topics_of(settings: Mapping[str, Any] | None) -> Mapping[str, Sequence[str]]:
    """The workspace's topics, or the defaults when it has not set its own."""
    stored = (settings or {}).get(SETTINGS_KEY)
    if not isinstance(stored, dict) or not stored:
        return DEFAULT_TOPICS
    return {str(name): tuple(str(k) for k in words) for name, words in stored.items()}


def validate_topics(items: Sequence[Mapping[str, Any]]) -> Topics:
    """``[{"name": ..., "keywords": [...]}, ...]`` checked and tidied: names unique
    (case-insensitive), keywords lower-cased, deduplicated, none empty."""
    if len(items) > MAX_TOPICS:
        raise TopicError(f"at most {MAX_TOPICS} topics")
    topics: Topics = {}
    seen: set[str] = set()
    for position, item in enumerate(items, start=1):
        name = " ".join(str(item.get("name", "")).split())
        if not name:
            raise TopicError(f"topic {position} has no name")
        if len(name) > MAX_NAME:
            raise TopicError(f"topic {name[:20]!r}… is longer than {MAX_NAME} characters")
        if name.casefold() in seen:
            raise TopicError(f"topic {name!r} is listed twice")
        seen.add(name.casefold())
        raw = item.get("keywords") or []
        if isinstance(raw, str) or not isinstance(raw, Sequence):
            raise TopicError(f"topic {name!r}: keywords must be a list of words or phrases")
        keywords: list[str] = []
        for word in raw:
            cleaned = " ".join(str(word).lower().split())
            if len(cleaned) > MAX_KEYWORD:
                raise TopicError(f"topic {name!r}: a keyword is longer than {MAX_KEYWORD}")
            if cleaned and cleaned not in keywords:
                keywords.append(cleaned)
        if not keywords:
            raise TopicError(f"topic {name!r} needs at least one keyword")
        if len(keywords) > MAX_KEYWORDS:
            raise TopicError(f"topic {name!r} has more than {MAX_KEYWORDS} keywords")
        topics[name] = tuple(keywords)
    return topics


def parse_topic_lines(text: str) -> list[dict[str, Any]]:
    """The settings page's textarea, one topic a line: ``Name: word, another phrase``."""
    items: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, words = line.partition(":")
        if not colon:
            raise TopicError(f"line {number}: write it as 'Name: word, another phrase'")
        items.append({"name": name, "keywords": [w for w in words.split(",") if w.strip()]})
    return items


def as_items(topics: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    return [{"name": name, "keywords": list(words)} for name, words in topics.items()]
