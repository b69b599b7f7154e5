"""Peer answers: does another customer's public reply answer the customer's question?

Pure, like the rest of triage: the pipeline step (``pipeline/peer_answer_step.py``) has
already checked who wrote what (a reply to the ticket's customer, not the brand, not the
customer); this module only reads the two texts and the reply's inline intent.

The score adds three kinds of evidence, each small on its own:

* answer cues: the reply tells how ("you can", "go to", "try", "it's under"), or reports
  what worked ("worked for me", "fixed mine"), or links somewhere;
* overlap: content words the reply shares with the question (an answer names the thing
  asked about: "refund", "settings", "rebook");
* the reply's intent: an answer reads as information, not as a question or a complaint of
  its own. A question or complaint counts only with an explicit cue ("have you tried…?").

"Me too" and "same here" are never answers: they are the brand advocates' opposite, a
second customer with the same problem. Thanks and spam are never answers either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from socialdesk.triage.text import clean, words

# A post we ask about: the customer's message must read as one of these, or ask ("?").
ASKING_INTENTS = frozenset({"question", "complaint", "request"})
THRESHOLD = 0.5


def _phrases(*items: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(items) + r")\b", re.IGNORECASE)


# Telling how: instructions and places.
_HOW = _phrases(
    r"you (?:can|could|need to|have to|should|must|just|might)",
    r"try(?:ing)?",
    r"go to",
    r"head to",
    r"click",
    r"tap",
    r"select",
    r"open (?:the|your)",
    r"check (?:the|your|if|that)",
    r"it'?s (?:in|under|on)",
    r"under (?:settings|my|your|the)",
    r"in (?:the )?(?:settings|app|menu)",
    r"call (?:them|the|their)",
    r"restart",
    r"reset",
    r"update (?:the|your)",
    r"log (?:out|in) (?:and|then)",
    r"here'?s how",
    r"the trick is",
    r"make sure",
    r"use (?:the|your)",
    r"fill (?:in|out)",
    r"ask (?:for|them)",
    r"(?:step )?1[.)]",
)
# Reporting what worked: experience offered as the answer.
_WORKED = _phrases(
    r"worked for me",
    r"works for me",
    r"fixed (?:it|mine|my)",
    r"that(?:'s| is) what i did",
    r"i did (?:that|the same|it)",
    r"did it (?:yesterday|today|last week)",
    r"happened to me (?:and|too and)",
    r"same thing happened",
    r"have you tried",
    r"did you try",
    r"sorted (?:it|mine)",
)
# A second customer with the same problem, not an answer.
_ME_TOO = _phrases(
    r"me too",
    r"same here",
    r"same (?:problem|issue)",
    r"\+1",
    r"any (?:update|news)",
    r"following",
    r"also (?:waiting|having)",
)
_LINK = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_NEVER = frozenset({"spam", "thanks"})
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "so",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "from",
        "by",
        "with",
        "about",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "do",
        "does",
        "did",
        "done",
        "have",
        "has",
        "had",
        "i",
        "me",
        "my",
        "mine",
        "you",
        "your",
        "yours",
        "we",
        "our",
        "us",
        "they",
        "them",
        "their",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "what",
        "when",
        "where",
        "why",
        "how",
        "who",
        "which",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "not",
        "no",
        "yes",
        "just",
        "also",
        "too",
        "very",
        "really",
        "get",
        "got",
        "any",
        "some",
        "all",
        "up",
        "out",
        "again",
        "still",
        "now",
        "then",
        "than",
        "please",
        "pls",
        "help",
        "anyone",
        "know",
        "s",
        "t",
        "m",
        "ll",
        "re",
        "ve",
        "d",
    ]
)


@dataclass(frozen=True, slots=True)
class PeerVerdict:
    is_answer: bool
    score: float
    reasons: tuple[str, ...]


def content_words(text: str) -> set[str]:
    """Words that carry the subject: no stop words, punctuation or numbers; a plain
    ending dropped so "refunds" meets "refund"."""
    out = set()
    for word in words(clean(text)):
        word = word.strip("'")
        if len(word) < 3 or word in _STOP or not word.isalpha():
            continue
        out.add(_stem(word))
    return out


def _stem(word: str) -> str:
    # Enough for "rebooking" to meet "rebook" and "refunds" "refund"; no dictionary.
    for suffix, shortest in (("ing", 6), ("ed", 5), ("s", 5)):
        if word.endswith(suffix) and len(word) >= shortest:
            return word[: -len(suffix)]
    return word


def asks(question: str, intent: str | None) -> bool:
    """Whether the customer's post is something a peer could answer."""
    return intent in ASKING_INTENTS or "?" in question


def judge(question: str, answer: str, answer_intent: str | None) -> PeerVerdict:
    """Does ``answer`` (a peer's reply, with its inline intent) answer ``question``?"""
    if answer_intent in _NEVER:
        return PeerVerdict(False, 0.0, (f"intent:{answer_intent}",))
    cleaned = clean(answer).lower()
    if not cleaned or _ME_TOO.search(cleaned):
        return PeerVerdict(False, 0.0, ("me_too",) if cleaned else ("empty",))
    reasons: list[str] = []
    score = 0.0
    how = len(_HOW.findall(cleaned))
    worked = bool(_WORKED.search(cleaned))
    if how:
        score += 0.4 if how == 1 else 0.5
        reasons.append("tells_how")
    if worked:
        score += 0.4
        reasons.append("worked_for_them")
    if _LINK.search(answer):
        score += 0.15
        reasons.append("link")
    shared = content_words(question) & content_words(answer)
    if shared:
        score += min(0.3, 0.1 * len(shared))
        reasons.append("shares:" + ",".join(sorted(shared)[:5]))
    if answer_intent in ("question", "complaint") and not worked:
        # Its own question or complaint: an answer only with explicit experience offered.
        score -= 0.4
        reasons.append(f"intent:{answer_intent}")
    if not how and not worked:
        # Overlap alone is a conversation about the same thing, not an answer.
        score = min(score, THRESHOLD - 0.05)
    score = round(max(0.0, min(1.0, score)), 3)
    return PeerVerdict(score >= THRESHOLD, score, tuple(reasons))
