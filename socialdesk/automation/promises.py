"""Spot a promise in an agent's reply ("I'll get back to you", "we'll DM you tomorrow")
and when it falls due. Pure: text in, a :class:`Promise` or ``None`` out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

DEFAULT_DUE = timedelta(hours=24)

# "we'll" / "we will" / "I'll" / "I will" / "let me" … then a promising verb phrase.
_SUBJECT = (
    r"(?:we'll|we\s+will|i'll|i\s+will|we're\s+going\s+to|i'm\s+going\s+to"
    r"|let\s+me|we\s+shall)"
)
_ACTION = (
    r"(?:(?:\w+\s+){0,2}?)"  # "definitely", "be sure to"
    r"(?:look\s+into|get\s+back|come\s+back|follow\s+up|check(?:\s+(?:on|into|with|and))?"
    r"|investigate|find\s+out|update\s+you|keep\s+you\s+(?:posted|updated|informed)"
    r"|let\s+you\s+know|reach\s+out|contact\s+you|(?:dm|message|email|e-mail|call)\s+you"
    r"|send\s+you|escalate|look\s+at\s+(?:this|it|your))"
)
_PROMISE = re.compile(rf"\b{_SUBJECT}\s+{_ACTION}\b[^.!?\n]*", re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:won't|will\s+not|cannot|can't|never)\b", re.IGNORECASE)
_UNITS = {"minute": 60, "min": 60, "hour": 3600, "hr": 3600, "day": 86400, "week": 604800}
_IN_N = re.compile(
    r"\b(?:in|within|by\s+the\s+next)\s+(?:the\s+next\s+)?(\d{1,3}|an?|one|two|three|a\s+few)"
    r"\s*(minute|min|hour|hr|day|week)s?\b",
    re.IGNORECASE,
)
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "a few": 3}
_HINTS: tuple[tuple[re.Pattern[str], timedelta], ...] = (
    (re.compile(r"\b(?:asap|shortly|soon|right\s+away|in\s+a\s+bit)\b", re.I), timedelta(hours=4)),
    (
        re.compile(r"\b(?:later\s+today|today|this\s+(?:afternoon|evening))\b", re.I),
        timedelta(hours=8),
    ),
    (re.compile(r"\btomorrow\b", re.I), timedelta(days=1)),
    (re.compile(r"\b(?:next\s+week|in\s+a\s+week)\b", re.I), timedelta(days=7)),
    (re.compile(r"\bthis\s+week\b", re.I), timedelta(days=3)),
)


@dataclass(frozen=True, slots=True)
class Promise:
    phrase: str  # the promising sentence fragment, as written
    due_in: timedelta  # from the reply's time
    hint: str  # what set the due time: "in 2 hours", "tomorrow" or "default"


def _due(fragment: str) -> tuple[timedelta, str]:
    match = _IN_N.search(fragment)
    if match:
        raw = match.group(1).lower()
        amount = int(raw) if raw.isdigit() else _WORDS.get(re.sub(r"\s+", " ", raw), 1)
        seconds = amount * _UNITS[match.group(2).lower()]
        if seconds > 0:
            return timedelta(seconds=seconds), match.group(0)
    for pattern, delay in _HINTS:
        hint = pattern.search(fragment)
        if hint:
            return delay, hint.group(0)
    return DEFAULT_DUE, "default"


def detect_promise(text: str) -> Promise | None:
    """The first promise in ``text``, or ``None``. Negated sentences do not count."""
    text = text.replace("\u2019", "'")  # typographic apostrophes as typed on phones
    for match in _PROMISE.finditer(text):
        start = text.rfind(".", 0, match.start()) + 1
        lead = text[start : match.start()]
        phrase = match.group(0).strip()
        if _NEGATED.search(lead) or _NEGATED.search(phrase.split(" ", 2)[0]):
            continue
        due_in, hint = _due(phrase)
        return Promise(phrase=phrase[:200], due_in=due_in, hint=hint)
    return None
