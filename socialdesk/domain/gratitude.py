"""Tell a customer's closing "thanks!" from a real follow-up.

A thank-you after a solved ticket should not put the ticket back in the queue; a new
question or a "still broken" must. The rule errs toward reopening: anything that is not
clearly a short expression of thanks counts as a follow-up. A thank-you that carries
something new (an e-mail address, an order or tracking number, a link, a request) is a
follow-up too: the customer answered our question and is waiting on us again.
"""

from __future__ import annotations

import re

from socialdesk.domain.personal_data import describe, find_personal_data

_MENTION = re.compile(r"(?<![\w.+-])@\w+")
_URL = re.compile(r"https?://\S+")
_MENTION_OR_URL = re.compile(r"(@\w+|https?://\S+|#\w+)")
_THANKS = re.compile(
    r"\b(thanks?|thank\s*you|thankyou|thx|thnx|tks|ty|tysm|cheers|appreciated?|"
    r"much\s+appreciated|merci|gracias|danke|obrigad[oa]|grazie|arigato)\b"
)
_PRAISE = re.compile(
    r"\b(great|perfect|awesome|amazing|brilliant|excellent|lovely|fantastic|cool|nice|"
    r"good|helpful|legend|star|sorted|fixed|solved|resolved|works?|working|worked)\b"
)
# Words that signal the problem is not over, whatever else the message says.
_FOLLOW_UP_CUES = re.compile(
    r"\b(but|still|not|no|never|doesn'?t|didn'?t|isn'?t|wasn'?t|won'?t|can'?t|cannot|"
    r"however|again|problem|issue|error|broken|help|why|how|when|what|where|unfortunately|"
    r"though|although|except|yet|"
    # Requests and new facts: "please update me", "I DMed you", "pic attached".
    r"please|pls|plz|could|can|need|needs|further|update\s+on|attached|here'?s|here\s+is|"
    r"dm'?e?d|messaged|emailed|sent\s+you|details|request|submitted|only)\b"
)
# A number the agent may need: three digits or more ("Order 4411"), or letters and
# digits in one token ("1Z999"). Not "100%", "2 mins" or "iOS 11".
_NUMBER = re.compile(r"(?<![\w#])(?:\d{3,}(?![\d%])|[A-Za-z]+\d[\w-]*|\d+[A-Za-z][\w-]*)")
_NOT_NUMBERS = re.compile(
    r"^(?:\d+(?:st|nd|rd|th|s|am|pm|x)|[A-Za-z]+\d{1,2}|\d{1,2}[A-Za-z])$", re.IGNORECASE
)
_GRATEFUL_EMOJI = set("🙏👍❤♥💙💚💜🧡💛😊🙂😀😃😄😁🥰😍🤗👏🎉✨💯✅")
_MAX_WORDS = 14


def content_beyond_thanks(text: str) -> str | None:
    """What in the message is more than thanks, named for the ticket's history, or None.

    Looks only for things a thank-you must not hide: personal data, a number, a link or a
    question. Whether the rest is thanks at all is :func:`is_gratitude_only`'s call.
    """
    without_mentions = _MENTION.sub(" ", text)
    findings = find_personal_data(without_mentions)
    if findings:
        return describe(findings)
    if _URL.search(without_mentions):
        return "a link"
    if any(not _NOT_NUMBERS.match(m.group(0)) for m in _NUMBER.finditer(without_mentions)):
        return "a number"
    if "?" in _URL.sub(" ", without_mentions):
        return "a question"
    return None


def is_gratitude_only(text: str) -> bool:
    """True when the message only thanks or acknowledges, with no new request in it."""
    cleaned = _MENTION_OR_URL.sub(" ", text).strip().lower()
    if not cleaned:
        return False
    if "?" in cleaned:
        return False
    if _FOLLOW_UP_CUES.search(cleaned):
        return False
    words = re.findall(r"[^\W\d_]+", cleaned)
    if len(words) > _MAX_WORDS:
        return False
    # The cheap tests first: only a message that reads as thanks is searched for content.
    return _reads_as_thanks(cleaned, words) and content_beyond_thanks(text) is None


def _reads_as_thanks(cleaned: str, words: list[str]) -> bool:
    if _THANKS.search(cleaned):
        return True
    if words and _PRAISE.search(cleaned) and len(words) <= 4:
        return True
    # A reply made of grateful emoji alone ("🙏", "👍👍").
    symbols = [ch for ch in cleaned if not ch.isspace() and ch not in "!.,:;-~*'\"\ufe0f"]
    return bool(symbols) and not words and all(ch in _GRATEFUL_EMOJI for ch in symbols)
