"""Tell a customer's closing "thanks!" from a real follow-up.

A thank-you after a solved ticket should not put the ticket back in the queue; a new
question or a "still broken" must. The rule errs toward reopening: anything that is not
clearly a short expression of thanks counts as a follow-up.
"""

from __future__ import annotations

import re

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
    r"though|although|except|yet)\b"
)
_GRATEFUL_EMOJI = set("🙏👍❤♥💙💚💜🧡💛😊🙂😀😃😄😁🥰😍🤗👏🎉✨💯✅")
_MAX_WORDS = 14


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
    if _THANKS.search(cleaned):
        return True
    if words and _PRAISE.search(cleaned) and len(words) <= 4:
        return True
    # A reply made of grateful emoji alone ("🙏", "👍👍").
    symbols = [ch for ch in cleaned if not ch.isspace() and ch not in "!.,:;-~*'\"\ufe0f"]
    return bool(symbols) and not words and all(ch in _GRATEFUL_EMOJI for ch in symbols)
