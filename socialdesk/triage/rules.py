"""Intent, topic, urgency words: keyword rules over the cleaned, lower-cased text."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

INTENTS = ("question", "complaint", "request", "praise", "thanks", "feedback", "spam", "other")


def _words(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.IGNORECASE)


_SPAM = _words(
    r"follow (?:me|back)",
    r"giveaway",
    r"crypto",
    r"bitcoin",
    r"forex",
    r"free followers",
    r"click here",
    r"earn \$?\d+",
    r"dm (?:me )?for promo",
    r"onlyfans",
)
_THANKS = _words(
    r"thanks?", r"thank you", r"thx", r"ty", r"cheers", r"appreciate(?:d)?", r"grateful"
)
_COMPLAINT = _words(
    r"lost",
    r"broken?",
    r"not working",
    r"doesn'?t work",
    r"won'?t (?:work|load|open|let)",
    r"stopped working",
    r"still (?:waiting|no|not|haven'?t)",
    r"cancell?ed",
    r"delay(?:ed|s)?",
    r"worst",
    r"terrible",
    r"awful",
    r"horrible",
    r"ridiculous",
    r"unacceptable",
    r"useless",
    r"never (?:again|arrived|received|came)",
    r"charged twice",
    r"overcharged",
    r"ripped off",
    r"disappointed",
    r"frustrat\w*",
    r"fed up",
    r"no one",
    r"nobody",
    r"missing",
    r"stuck",
    r"crash(?:es|ed|ing)?",
    r"keeps? (?:crashing|freezing|dropping)",
    r"down again",
    r"fail(?:ed|s)?",
    r"wrong",
    r"damaged",
    r"hasn'?t arrived",
    r"didn'?t (?:arrive|receive|get)",
    r"rude",
)
_REQUEST = _words(
    r"please",
    r"pls",
    r"plz",
    r"can you",
    r"could you",
    r"would you",
    r"i need",
    r"i want",
    r"i'?d like",
    r"help me",
    r"need help",
    r"dm me",
    r"refund",
    r"cancel my",
    r"change my",
    r"send me",
    r"call me",
    r"reset",
)
_PRAISE = _words(
    r"love",
    r"loving",
    r"great",
    r"awesome",
    r"amazing",
    r"excellent",
    r"best",
    r"fantastic",
    r"brilliant",
    r"kudos",
    r"shout ?out",
    r"well done",
    r"perfect",
    r"wonderful",
    r"impressed",
)
_FEEDBACK = _words(
    r"should",
    r"suggest(?:ion)?",
    r"would be (?:nice|great|better)",
    r"feature",
    r"wish",
    r"idea",
    r"feedback",
    r"improve",
    r"please add",
    r"why not",
)
_QUESTION_START = re.compile(
    r"^(?:how|what|when|where|why|who|which|is|are|can|could|do|does|did|will|would|should|has|have)\b",
    re.IGNORECASE,
)

# Words that raise urgency, by the signal they name. A safety or legal word matters more
# than a billing one: someone may be hurt, or a lawyer is already involved.
URGENT_WORDS: dict[str, tuple[int, re.Pattern[str]]] = {
    "safety": (
        35,
        _words(
            r"fire",
            r"smoke",
            r"injur\w*",
            r"hurt",
            r"bleeding",
            r"danger\w*",
            r"unsafe",
            r"emergency",
            r"stranded",
            r"stuck on (?:the )?(?:plane|tarmac|train)",
            r"ambulance",
            r"police",
            r"exploded?",
            r"overheat\w*",
            r"burn(?:ed|t|ing)?",
            r"medical",
            r"medication",
        ),
    ),
    "legal": (
        30,
        _words(
            r"lawyer",
            r"attorney",
            r"sue",
            r"suing",
            r"lawsuit",
            r"legal action",
            r"court",
            r"ombudsman",
            r"regulator",
            r"fcc",
            r"dot complaint",
            r"small claims",
            r"gdpr",
            r"fraud",
            r"scam(?:med)?",
            r"stolen",
        ),
    ),
    "billing": (
        15,
        _words(
            r"charged",
            r"overcharged",
            r"double charged",
            r"refund",
            r"bill(?:ed|ing)?",
            r"invoice",
            r"payment",
            r"money",
            r"debit(?:ed)?",
            r"credit card",
            r"chargeback",
        ),
    ),
    "outage": (
        20,
        _words(
            r"outage",
            r"(?:is|are|site|app|service|network|internet|wifi|server)s? down",
            r"down again",
            r"no (?:service|signal|internet|connection|power)",
            r"not loading",
            r"can'?t (?:log ?in|sign ?in|connect|access)",
            r"offline",
        ),
    ),
}

DEFAULT_TOPICS: dict[str, tuple[str, ...]] = {
    "Cancelled flight": ("cancelled", "canceled", "cancellation", "cancelled flight"),
    "Delayed flight": ("delay", "delayed", "delays", "late", "missed connection", "tarmac"),
    "Lost luggage": ("luggage", "baggage", "bag", "bags", "suitcase", "lost bag"),
    "Booking": ("booking", "reservation", "seat", "ticket", "upgrade", "check in", "boarding"),
    "Billing": ("bill", "billing", "charged", "charge", "refund", "payment", "invoice", "price"),
    "Outage": ("outage", "down", "no service", "no signal", "internet", "wifi", "network"),
    "Account and login": ("login", "log in", "password", "account", "locked", "sign in", "2fa"),
    "Delivery": ("delivery", "delivered", "package", "parcel", "order", "shipping", "tracking"),
    "Device and app": ("battery", "screen", "update", "ios", "app", "crash", "iphone", "laptop"),
}


def detect_intent(
    lowered: str, sentiment_label: str, negative_probability: float, word_count: int
) -> str:
    """One intent per post, the strongest reading first.

    A question with complaint words or strong negativity is a complaint: "why is my
    flight cancelled again?" wants a fix, not an answer. A plain question stays a question
    even when the model leans negative (customers asking for help often do). Thanks only
    when the post is short: a long post that thanks has more to say.
    """
    if _SPAM.search(lowered):
        return "spam"
    complaint_words = bool(_COMPLAINT.search(lowered))
    asks = "?" in lowered or _QUESTION_START.match(lowered) is not None
    if _THANKS.search(lowered) and word_count <= 12 and not complaint_words:
        return "thanks"
    if complaint_words and sentiment_label != "positive":
        return "complaint"
    if _REQUEST.search(lowered) and "?" not in lowered and negative_probability < 0.85:
        # "Can you send me…" without a question mark asks for an action, not an answer.
        return "request"
    if sentiment_label == "negative" and negative_probability >= (0.8 if asks else 0.6):
        return "complaint"
    if _REQUEST.search(lowered) and "?" not in lowered:
        # "Can you send me…" without a question mark asks for an action, not an answer.
        return "request"
    if asks:
        return "question"
    if _REQUEST.search(lowered):
        return "request"
    if _PRAISE.search(lowered) or sentiment_label == "positive":
        return "praise" if not _THANKS.search(lowered) else "thanks"
    if _FEEDBACK.search(lowered):
        return "feedback"
    return "other"


def detect_topic(lowered: str, topics: Mapping[str, Sequence[str]]) -> str | None:
    """The topic with the most distinct keywords in the post; ties go to the earlier topic."""
    best, best_hits = None, 0
    for name, pattern in _topic_patterns(tuple((n, tuple(k)) for n, k in topics.items())):
        hits = len(set(pattern.findall(lowered)))
        if hits > best_hits:
            best, best_hits = name, hits
    return best


@lru_cache(maxsize=64)
def _topic_patterns(
    topics: tuple[tuple[str, tuple[str, ...]], ...],
) -> list[tuple[str, re.Pattern[str]]]:
    # One alternation per topic, compiled once per topic list: a regex per keyword per
    # post cost more than the rest of the triage together.
    return [
        (
            name,
            re.compile(
                r"(?<!\w)(?:"
                + "|".join(re.escape(k.lower()) for k in sorted(keywords, key=len, reverse=True))
                + r")(?!\w)"
            ),
        )
        for name, keywords in topics
        if keywords
    ]
